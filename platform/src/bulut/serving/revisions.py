"""One revision at run time: its zygote, its instances, activator and autoscaler.

:class:`RevisionRuntime` is the autoscaler's :class:`ScaleTarget` and the router's way
to a function. A request takes a free containerConcurrency slot on a ready instance;
with none ready it is held by the activator (which pokes the autoscaler); with all slots
busy it waits in the activator (Proxy mode) or in one instance's 10 × CC queue (Serve
mode). The whole request is bounded by ``timeoutSeconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bulut.errors import InstanceError
from bulut.processes.backoff import KUBELET, BackOff, CrashLoop, after_exit
from bulut.serving.activator import Activator
from bulut.serving.autoscaler import Autoscaler, ConcurrencyTracker, DeciderSpec
from bulut.serving.instances import Instance, State
from bulut.serving.launcher import Launcher, StartQueue
from bulut.serving.seeds import Seeds
from bulut.serving.status import RevisionFacts, report
from bulut.serving.zygote import POOL, Child, Workload

logger = logging.getLogger(__name__)

PROXY = "Proxy"


class Ticket(Protocol):
    """A request waiting for a slot; it learns whether the activator held it."""

    via_activator: bool


class _Reroute(Exception):
    """An instance went away while a request queued for it: pick again."""


@dataclass(frozen=True)
class RevisionSpec:
    """What the runtime needs from a Revision (and its SinkBindings)."""

    namespace: str
    name: str
    workload: Workload
    cwd: Path
    service: str = ""
    configuration: str = ""
    container_concurrency: int = 0
    timeout_seconds: float = 300.0
    response_start_timeout_seconds: float = 0.0  # 0: timeoutSeconds bounds the first byte
    idle_timeout_seconds: float = 0.0  # 0: no limit between writes
    env: Mapping[str, str] = field(default_factory=dict)
    use_zygote: bool = True

    def process_env(self) -> dict[str, str]:
        """The container env plus Knative's K_* variables (PORT is set per instance)."""
        env = dict(self.env)
        env.update(
            K_SERVICE=self.service,
            K_CONFIGURATION=self.configuration or self.service,
            K_REVISION=self.name,
        )
        return env


LAUNCHES_AT_ONCE = 4  # per revision; the others wait their turn, where a scale-down wins
# The poke of the request that begins a cold start alone waits until it is answered (ADR 0027):
POKE_AFTER_ANSWER = 0.001  # s after its response, so that its reader runs before the tick
POKE_WITHIN = 0.05  # s after the cold start began, answered or not


class InstanceBudget:
    """How many instances the whole platform may run at once (``BULUT_MAX_INSTANCES``)."""

    def __init__(self, limit: int = 0) -> None:
        self.limit = limit  # 0: no limit
        self.used = 0
        self._warned = False

    def take(self) -> bool:
        """One more instance, if the budget has room."""
        if self.limit and self.used >= self.limit:
            if not self._warned:
                logger.warning(
                    "the platform runs %d instances, its ceiling (BULUT_MAX_INSTANCES): "
                    "no more start until some stop",
                    self.limit,
                )
                self._warned = True
            return False
        self.used += 1
        return True

    def give(self) -> None:
        """An instance is gone."""
        self.used = max(0, self.used - 1)
        self._warned = False


class RevisionRuntime:
    """Instances of one revision, the requests waiting for them, and their autoscaler."""

    def __init__(
        self,
        spec: RevisionSpec,
        decider: DeciderSpec,
        *,
        on_change: Callable[[], None] = lambda: None,
        on_ready: Callable[[RevisionSpec, Instance], None] | None = None,
        tick_interval: float = 2.0,
        start_queue: StartQueue | None = None,
        seeds: Seeds | None = None,
        budget: InstanceBudget | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        backoff: BackOff = KUBELET,
    ) -> None:
        self.spec = spec
        self.budget = budget if budget is not None else InstanceBudget()
        self._queued = 0  # launches asked for and not finished (waiting or launching)
        self._launching = 0  # launches past their turn, not yet an instance
        self._turns = asyncio.Semaphore(LAUNCHES_AT_ONCE)
        self._on_ready = on_ready
        self.instances: list[Instance] = []
        self.ready: list[Instance] = []
        self.activator: Activator[Instance] = Activator(self._release)
        self.tracker = ConcurrencyTracker()
        self.autoscaler = Autoscaler(self, self.tracker, decider, tick_interval=tick_interval)
        self.facts = RevisionFacts()
        self._on_change = on_change
        self.launcher = Launcher(
            spec.workload,
            spec.process_env(),
            spec.cwd,
            use_zygote=spec.use_zygote,
            start_timeout=decider.progress_deadline,
            on_change=self._changed,
            pool_source=POOL,
            start_queue=start_queue,
            seeds=seeds,
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._desired = 0
        self._round_robin = itertools.count()
        # The kubelet's CrashLoopBackOff: an instance that exits is restarted at once, then
        # after 10 s, 20 s... up to 5 min (bulut.processes.backoff); a 10-minute run resets it.
        self._sleep, self._clock, self._backoff = sleep, clock, backoff
        self.crash_loop = CrashLoop()
        self._last_start = clock()
        self._closed = False
        self._held_poke: asyncio.TimerHandle | None = None  # the cold start's poke, held back
        self._changes_held = False  # and changes to report once it goes

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> None:
        """Start the zygote and the autoscaler (which brings initial-scale instances).

        An unrouted revision starts no zygote: the first launch, once it is routed, does.
        """
        if self.autoscaler.spec.reachable:
            self.launcher.start()
        self._spawn_task(self.autoscaler.run())

    def _spawn_task(self, coroutine: object) -> None:
        if self._closed:  # shutting down: a restart or release now would outlive aclose()
            close = getattr(coroutine, "close", None)
            if close is not None:
                close()
            return
        task = asyncio.ensure_future(coroutine)  # type: ignore[call-overload]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Stop the autoscaler, every instance (SIGTERM, SIGKILL after the grace) and the zygote."""
        self._closed = True
        if self._held_poke is not None:
            self._held_poke.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.activator.fail_all(InstanceError("revision is shutting down"))
        await asyncio.gather(*(self._stop(i) for i in list(self.instances)))
        await self.launcher.aclose()

    def update_decider(self, decider: DeciderSpec) -> None:
        """Autoscale by a new spec from the next tick (annotations, config or routing changed).

        A revision no route sends traffic to (``reachable`` False: Knative's routingState
        ``reserve``) scales to zero whatever its min-scale, and then releases its zygote.
        """
        self.autoscaler.update_spec(decider)
        self._release_if_unrouted()

    def _release_if_unrouted(self) -> None:
        if self._closed or self.autoscaler.spec.reachable or not self.launcher.holds_zygote:
            return
        if self.instances or self._queued or self._launching:
            return  # its instances run on the zygote: release once they are gone
        logger.info("revision %s is not routed: its zygote is released", self.spec.name)
        self._spawn_task(self.launcher.release())

    # -- ScaleTarget -----------------------------------------------------------
    def ready_instances(self) -> int:
        """Instances whose readiness probe passed."""
        return len(self.ready)

    def instance_count(self) -> int:
        """Instances starting or ready."""
        return sum(1 for i in self.instances if not i.stopping)

    async def scale_to(self, count: int) -> None:
        """Start or stop instances to reach ``count`` (returns once that has begun).

        Launches already asked for count toward ``count``: a tick never asks twice for
        the same missing instance, and a launch still waiting its turn when the count
        drops does not happen (a scale-down wins over queued forks).
        """
        self._desired = count
        live = [i for i in self.instances if not i.stopping]
        for _ in range(count - len(live) - self._queued):
            self._launch()
        if count < len(live):
            victims = sorted(live, key=lambda i: (i.state is State.READY, i.breaker.in_flight))
            for instance in victims[: len(live) - count]:
                self._spawn_task(self._drain(instance))
        self._changed()

    # -- instances -------------------------------------------------------------
    def _launch(self) -> None:
        self._queued += 1
        self._spawn_task(self._run_instance())

    async def _run_instance(self) -> None:
        try:
            async with self._turns:
                if self._closed or self.instance_count() + self._launching >= self._desired:
                    return  # scaled down (or closed) while this launch waited its turn
                if not self.budget.take():
                    return
                self._launching += 1
                self._last_start = self._clock()
                try:
                    child, how = await self.launcher.launch()
                except InstanceError as error:
                    self.budget.give()
                    failed: str | None = str(error)
                else:
                    failed = None
                    instance = self._started(child, how)
                finally:
                    self._launching -= 1
        finally:
            self._queued -= 1
        if failed is not None:
            self._crashed(1, failed)  # no process to exit: Kubernetes' exit code 1
            return
        self._route_when_ready(instance)

    def _route_when_ready(self, instance: Instance) -> None:
        """Route to ``instance`` the moment it says its readiness probe passed (ADR 0027).

        Its word comes through the notification pipe's reader (``child.listening``), and
        the instance is made ready in that future's callback: no task wakes and no
        ``asyncio.wait`` runs between the word and the held request it is offered to. The
        first request's connection opens meanwhile. An instance that says it listens but
        its own probe failed, or that cannot say, is probed from here (:meth:`_until_ready`);
        one still silent at the progress deadline is stopped.
        """
        spec = self.autoscaler.spec
        deadline = time.monotonic() + spec.progress_deadline
        word = instance.child.listening
        if word is None:
            self._spawn_task(self._until_ready(instance, deadline))
            return
        overdue: asyncio.TimerHandle | None = None

        def heard(word: asyncio.Future[bool]) -> None:
            if overdue is not None:
                overdue.cancel()
            if word.cancelled() or instance.exited.done():
                return  # it exited first: _exited has it
            if not word.result():
                self._spawn_task(self._until_ready(instance, deadline))
            elif instance.state is State.STARTING and not instance.stopping:
                self._became_ready(instance)

        if word.done():
            heard(word)
            return
        instance.connect_ahead()
        overdue = asyncio.get_running_loop().call_later(
            spec.progress_deadline, self._overdue, instance
        )
        word.add_done_callback(heard)

    def _overdue(self, instance: Instance) -> None:
        """Past the progress deadline without a word: stopped, as a failed probe would."""
        if instance.state is State.STARTING and not instance.exited.done():
            self.facts.deadline_exceeded = True
            self._spawn_task(self._stop(instance))

    async def _until_ready(self, instance: Instance, deadline: float) -> None:
        """Route to ``instance`` once a probe from here passes; stop it past ``deadline``."""
        if await instance.wait_ready(self.spec.workload.readiness_path, deadline):
            if instance.state is State.STARTING and not instance.stopping:
                self._became_ready(instance)
        elif not instance.exited.done():
            self.facts.deadline_exceeded = True
            await self._stop(instance)

    def _started(self, child: Child, how: str) -> Instance:
        instance = Instance(
            child, container_concurrency=self.spec.container_concurrency, cold_start=how
        )
        self.facts.cold_starts[how] = self.facts.cold_starts.get(how, 0) + 1
        self.instances.append(instance)
        instance.exited.add_done_callback(lambda f: self._exited(instance, f))
        self._changed()
        return instance

    def _became_ready(self, instance: Instance, *, first: bool = True) -> None:
        instance.state = State.READY
        self.ready.append(instance)
        if first:
            instance.ready_at = time.monotonic()
            self.facts.ever_ready, self.facts.last_exit_code = True, None
            if self._on_ready is not None:
                self._on_ready(self.spec, instance)
        while self.activator.held and instance.breaker.try_acquire():
            if not self.activator.offer(instance):
                instance.breaker.release()
        self._changed()

    def unreachable(self, instance: Instance) -> None:
        """A connection to ``instance`` was refused: route around it until a probe passes.

        Usually the process has just died and its exit is not handled yet; requests then
        wait in the activator for the replacement instead of failing with 502.
        """
        if instance in self.ready:
            self.ready.remove(instance)
            instance.state = State.STARTING
            self._spawn_task(self._probe_again(instance))
            self._changed()

    async def _probe_again(self, instance: Instance) -> None:
        deadline = time.monotonic() + self.autoscaler.spec.progress_deadline
        ready = await instance.wait_ready(self.spec.workload.readiness_path, deadline, again=True)
        if ready and instance.state is State.STARTING and not instance.stopping:
            self._became_ready(instance, first=False)

    def _exited(self, instance: Instance, future: asyncio.Future[int]) -> None:
        code = future.result()
        self.budget.give()
        if instance in self.ready:
            self.ready.remove(instance)
        if instance in self.instances:
            self.instances.remove(instance)
        instance.state = State.GONE
        instance.upstream.close()
        instance.breaker.fail_waiters(_Reroute())
        if not instance.stopping and not self._closed:
            logger.warning("revision %s: instance %d exited %d", self.spec.name, instance.pid, code)
            self._crashed(code, f"instance {instance.pid} exited with {code}")
        self._release_if_unrouted()
        self._changed()

    def _crashed(self, code: int, message: str) -> None:
        """An instance exited, or could not start: restart it after the crash loop's back-off.

        The restart counts as a queued launch while it waits, so the autoscaler's ticks do
        not start another in its place (the back-off holds, as the kubelet's does).
        """
        self.facts.last_exit_code, self.facts.last_exit_message = code, message
        self.crash_loop = after_exit(
            self.crash_loop, self._clock() - self._last_start, self._backoff
        )
        self.facts.crash_loop = self.crash_loop
        if self.crash_loop.backing_off:
            logger.warning(
                "revision %s: CrashLoopBackOff, %s", self.spec.name, self.crash_loop.message()
            )
        if self.instance_count() + self._queued < self._desired:
            self._queued += 1
            self._spawn_task(self._restart_after(self.crash_loop.back_off))
        self._changed()

    async def _restart_after(self, delay: float) -> None:
        try:
            if delay > 0:
                await self._sleep(delay)
        except BaseException:
            self._queued -= 1
            raise
        await self._run_instance()  # its turn; it gives the queued launch back

    async def _drain(self, instance: Instance) -> None:
        instance.stopping = True
        if instance in self.ready:
            self.ready.remove(instance)
        instance.state = State.DRAINING
        instance.breaker.fail_waiters(_Reroute())
        deadline = time.monotonic() + self.spec.timeout_seconds
        while instance.breaker.in_flight > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await self._stop(instance)

    async def _stop(self, instance: Instance) -> None:
        with contextlib.suppress(TimeoutError):
            await instance.stop(self.spec.timeout_seconds)
        self._changed()

    # -- requests ----------------------------------------------------------------
    def _release(self, instance: Instance) -> None:
        if not instance.breaker.release() or instance.state is not State.READY:
            return
        offered = self.activator.held and instance.breaker.try_acquire()
        if offered and not self.activator.offer(instance):
            instance.breaker.release()

    def take(self) -> Instance | None:
        """A ready instance with a free slot, taken (the warm path: no waiting).

        With none ready at zero the cold start begins here, before the request waits
        (:meth:`_scale_from_zero`): the gateway calls this first, then :meth:`acquire`.
        """
        ready = self.ready
        count = len(ready)
        if not count:
            self._scale_from_zero()
            return None
        cc = self.spec.container_concurrency
        start = next(self._round_robin) if cc == 0 or cc > 3 else 0
        for offset in range(count):
            instance = ready[(start + offset) % count]
            if instance.breaker.try_acquire():
                return instance
        return None

    async def acquire(self, ticket: Ticket) -> Instance:
        """An instance whose slot is ours; ``ticket.via_activator`` says who held the request.

        With no ready instance the activator holds the request and the autoscaler is
        poked; with every slot busy the request queues in the activator (Proxy mode) or
        in one instance's 10 x CC queue (Serve mode). The caller bounds the wait.
        """
        while True:
            ready = self.ready
            if ready:
                free = self.take()
                if free is not None:
                    return free
                if self.autoscaler.routing != PROXY:
                    instance = ready[next(self._round_robin) % len(ready)]
                    try:
                        await instance.breaker.acquire()
                    except _Reroute:
                        continue
                    return instance
            else:
                self.launcher.wanted()  # its zygote starts before idle revisions' ones
                self._scale_from_zero()
                if self._held_poke is None or self.activator.held:
                    self._poke()  # a burst: the autoscaler decides the rest now
            ticket.via_activator = True
            return await self.activator.hold()

    def _scale_from_zero(self) -> None:
        """A request waits and no instance runs or starts: launch one now, ahead of the
        autoscaler's tick, which then finds it and decides the rest (Knative's activator
        pokes its autoscaler the same way; at zero the answer is always at least one).
        The poke and the revision's changes are held back until the request is answered
        (ADR 0027)."""
        if self._closed or self._queued or self.instance_count():
            return
        if not self.autoscaler.spec.reachable:
            return
        self._desired = max(self._desired, 1)
        if self._held_poke is None:
            loop = asyncio.get_running_loop()
            self._held_poke = loop.call_later(POKE_WITHIN, self._poke)
        if not self._take_parked():
            self._launch()

    def _poke(self) -> None:
        """Poke the autoscaler now (and forget a poke held back, reporting the changes
        held with it)."""
        if self._held_poke is not None:
            self._held_poke.cancel()
            self._held_poke = None
            if self._changes_held:
                self._changes_held = False
                self._changed()
        self.autoscaler.poke()

    @property
    def poke_pending(self) -> bool:
        """Whether a cold start's poke is held back (it comes once its request is answered,
        or ``POKE_WITHIN`` after the cold start began)."""
        return self._held_poke is not None

    def _take_parked(self) -> bool:
        """Take the zygote's parked child now, in the request's own call (no task, no turn
        to wait for): its go line is written before the request is even held. False when
        there is none (no zygote primed yet, the pool empty) or the budget is spent."""
        if not self.launcher.can_take() or not self.budget.take():
            return False
        taken = self.launcher.take()
        if taken is None:  # it died just now: launch as usual
            self.budget.give()
            return False
        self._last_start = self._clock()
        self._route_when_ready(self._started(*taken))
        return True

    def release(self, instance: Instance) -> None:
        """A request on ``instance`` finished: its slot goes to a held request or is freed.

        The first answer after a cold start releases the autoscaler's poke held back for
        it, a moment later: its tick runs once the response is out, not in the middle of
        the cold start (ADR 0027).
        """
        self._release(instance)
        if self._held_poke is not None:
            self._held_poke.cancel()
            self._held_poke = asyncio.get_running_loop().call_later(POKE_AFTER_ANSWER, self._poke)

    # -- reporting ------------------------------------------------------------------
    def _changed(self) -> None:
        """Tell the data plane (its report to the control plane, HAProxy's table).

        While a cold start's poke is held back, its changes wait with it (ADR 0027): the
        instance taken and made ready is reported with the tick after the answer, not in
        the middle of the cold start, where the report (and the control plane's merge of
        it, in the same process under `bulut up`) would take the CPU the instance and the
        response need.
        """
        if self._closed:
            return
        if self._held_poke is not None:
            self._changes_held = True
            return
        self._on_change()

    def runtime_report(self) -> dict[str, object]:
        """The runtime facts of this revision, as reported to the control plane."""
        facts = self.facts
        facts.desired = max(self.autoscaler.desired_scale, 0)
        facts.actual = self.instance_count()
        facts.ready = len(self.ready)
        facts.held = self.activator.held
        facts.active = self.autoscaler.active_condition()
        self.launcher.refresh()
        facts.zygote = self.launcher.facts
        facts.instances = [
            {"pid": i.pid, "port": i.port, "state": i.state.value, "coldStart": i.cold_start}
            for i in self.instances
        ]
        body = report(facts)
        body["routing"] = self.autoscaler.routing
        return body
