"""Operations on JSON documents (they live in :mod:`bulut.apis.patches`)."""

from __future__ import annotations

from bulut.apis.patches import clone, merge_patch

__all__ = ["clone", "merge_patch"]
