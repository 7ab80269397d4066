"""Supervising local processes the way Kubernetes supervises containers (pure decisions)."""
