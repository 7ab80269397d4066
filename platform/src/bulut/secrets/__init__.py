"""bulut.secrets."""
