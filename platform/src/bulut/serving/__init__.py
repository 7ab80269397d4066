"""bulut.serving."""
