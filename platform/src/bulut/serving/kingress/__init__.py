"""HAProxy as the data plane's ingress (ADR 0015): Knative's KIngress, locally.

HAProxy serves the warm path (a host with ready instances goes straight to a slot of its
revision's backend); Bulut's gateway stays behind it as the activator (revisions at zero,
requests HAProxy cannot judge) and for every other host (the broker ingress). Bulut drives
HAProxy through its runtime API as routes and readiness change, reads the revisions'
concurrency and response counts from ``show stat`` for the autoscaler and the metrics, and
turns HAProxy's log lines (one per request whose trace is recorded) into the router span and
the latency histogram's observations (ADR 0030).

- :mod:`.config`: the ``haproxy.cfg`` text (pure);
- :mod:`.plan`: what HAProxy should route now, and the runtime API commands from one plan
  to the next (pure);
- :mod:`.access_log`: HAProxy's log lines read back into spans and metrics;
- :mod:`.haproxy`: the process and its runtime API;
- :mod:`.controller`: the loop that keeps HAProxy in line with the router.
"""
