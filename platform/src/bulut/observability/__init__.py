"""bulut.observability."""
