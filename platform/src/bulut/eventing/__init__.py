"""bulut.eventing."""
