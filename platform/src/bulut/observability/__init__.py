"""bulut.observability: metrics, tracing and logs for the local platform.

``metrics`` names Knative's metrics and records or collects them into one
``CollectorRegistry`` per platform; ``tracing`` handles W3C ``traceparent`` and the
CloudEvents distributed-tracing extension; ``tracer`` makes spans, ``spans`` stores them
(SQLite), ``otlp`` exports them; ``logs`` formats JSON log lines and ``logfiles`` reads
instance logs. Nothing here imports the planes: they are read through ``stats`` Protocols.
"""
