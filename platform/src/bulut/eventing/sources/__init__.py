"""Event sources that run inside the eventing data plane (PingSource)."""
