"""Bulut: Knative-style Python functions, locally and on a cluster."""

__version__ = "0.1.0"
