"""The kubelet's CrashLoopBackOff: at once, then 10 s doubling to 5 min; a 10-minute run resets."""

from __future__ import annotations

from bulut.processes.backoff import KUBELET, BackOff, CrashLoop, after_exit


def test_the_first_restart_is_immediate_then_10s_doubling_up_to_five_minutes() -> None:
    loop = CrashLoop()
    waits = []
    for _ in range(9):
        loop = after_exit(loop, ran_for=1.0)
        waits.append(loop.back_off)
    assert waits == [0.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0, 300.0]
    assert loop.restarts == 9


def test_ten_minutes_of_running_start_the_count_over() -> None:
    loop = after_exit(after_exit(after_exit(CrashLoop(), 1.0), 1.0), 1.0)
    assert loop.back_off == 20.0
    assert after_exit(loop, ran_for=599.0).back_off == 40.0
    again = after_exit(loop, ran_for=600.0)
    assert (again.restarts, again.back_off) == (1, 0.0)


def test_the_first_restart_is_no_back_off_and_later_ones_say_the_kubelets_message() -> None:
    first = after_exit(CrashLoop(), 0.5)
    second = after_exit(first, 0.5)
    assert not first.backing_off
    assert second.backing_off
    assert second.message() == "back-off 10s restarting failed container=user-container"


def test_a_policy_of_its_own_scales_the_same_way() -> None:
    quick = BackOff(initial=0.5, cap=2.0, reset_after=5.0)
    assert [quick.delay(n) for n in range(5)] == [0.0, 0.5, 1.0, 2.0, 2.0]
    assert (KUBELET.initial, KUBELET.cap, KUBELET.reset_after) == (10.0, 300.0, 600.0)
