"""GitOps, locally: what Argo CD does on a cluster, done by the local platform.

An :class:`~bulut.gitops.application.Application` names a git repository, a revision and a
path. The :class:`~bulut.gitops.controller.GitOpsController` fetches the repository, builds the
path with kustomize, compares it with the live objects, applies it atomically wave by wave,
prunes only the objects it manages (annotation tracking, as Argo CD's tracking id), reverts
drift, and reports sync status and health per object and per application.

Decisions are pure (:mod:`~bulut.gitops.plan`, :mod:`~bulut.gitops.tracking`); git and the
control plane are reached through :mod:`~bulut.gitops.source` and a small protocol.
"""
