"""bulut.events."""
