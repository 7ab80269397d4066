"""bulut.observability: metrics, tracing and logs for the local platform.

``names`` holds Knative's metric names; ``metrics`` records (hot paths) and ``collectors``
read (scrape time, over the ``stats`` Protocols) into one registry per platform, served by
``exposition``. ``tracing`` handles W3C ``traceparent`` and the CloudEvents tracing
extension; ``tracer`` makes spans, ``spans`` stores them (SQLite), ``otlp`` exports them,
``trees`` shapes a trace for display; ``telemetry`` bundles a platform's registry and
tracer. ``logs`` formats JSON log lines and ``logfiles`` reads instance logs. Nothing here
imports the planes, and nothing happens at import time.
"""
