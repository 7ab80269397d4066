"""bulut.manifests."""
