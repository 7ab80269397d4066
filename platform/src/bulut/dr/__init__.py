"""bulut.dr."""
