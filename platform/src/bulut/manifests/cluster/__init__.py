"""Checks across objects: what a cluster would do with several manifests together.

Schemas and per-object admission see one document at a time; these rules look at everything
a validation run rendered (an :class:`~.inventory.Inventory`): Velero coverage of the
namespaces that run functions, hooks that select pods that are backed up, storage locations
that exist, drills that run a cluster scenario, pipeline steps whose ServiceAccount holds the
RBAC they need, RoleBindings whose role exists, ReadWriteOnce workspaces never used by two
steps at once, and an Argo CD AppProject that allows what its Applications render.

Each rule has a name and reports :class:`~.inventory.ClusterProblem` s with a fix.
"""

from __future__ import annotations

from .inventory import ClusterProblem, Inventory, Source
from .rules import RULES, check

__all__ = ["RULES", "ClusterProblem", "Inventory", "Source", "check"]
