"""bulut.serving.autoscaler."""
