"""bulut.controlplane."""
