"""A field error as the API server and Knative's webhook report it: a path and a message.

Validation rules in :mod:`bulut.manifests.kube`, :mod:`bulut.manifests.knative` and
:mod:`bulut.manifests.cluster` are pure functions returning lists of :class:`FieldError`, so
``bulut validate`` can report them all and the local admission can refuse with the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One broken rule at ``path`` (``spec.template.spec.containers[0].image``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def under(self, prefix: str) -> FieldError:
        """The same error with ``prefix`` in front of its path."""
        if not prefix:
            return self
        return FieldError(f"{prefix}.{self.path}" if self.path else prefix, self.message)


def under(prefix: str, errors: Iterable[FieldError]) -> list[FieldError]:
    """Every error re-rooted below ``prefix``."""
    return [error.under(prefix) for error in errors]
