"""bulut.functions."""
