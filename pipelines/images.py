"""Container images the pipelines run, pinned by tag (one place to bump them).

Pin to digests in a fork that has registry access (``crane digest IMAGE``); tags are what a
reviewer can read. kaniko is not here: it was archived upstream on 2025-06-03.
"""

from __future__ import annotations

GIT = "docker.io/alpine/git:v2.49.1"
TOOLS = "ghcr.io/astral-sh/uv:0.13.9-python3.11-bookworm-slim"  # uv + Python: runs `bulut`
BUILDAH = "quay.io/buildah/stable:v1.41.4"
TRIVY = "docker.io/aquasec/trivy:0.67.2"
YQ = "docker.io/mikefarah/yq:4.47.2"
CURL = "docker.io/curlimages/curl:8.16.0"
