"""The developer's loop against the running local platform: deploy, watch, reload.

``bulut func deploy`` renders a function exactly as ``bulut render`` does for the cluster,
stamps the revision template with the folder and a digest of its code (what a new image digest
is on a cluster), applies it and waits for the new Revision to be Ready. ``--watch`` does that
again on every save; a revision that fails leaves the previous one serving, as a failed
rollout does on a cluster.
"""
