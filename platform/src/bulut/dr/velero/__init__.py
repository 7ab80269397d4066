"""Velero on a cluster: object builders, phase interpretation, and the cluster drill."""
