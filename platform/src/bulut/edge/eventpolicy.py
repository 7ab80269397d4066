"""Knative's EventPolicy at the edge: which identities may send to which receiver (pure).

With ``authentication-oidc`` on, Knative's receivers (a Broker's ingress here) accept a request
only when one of the EventPolicies that apply to them names the sender: its token's ``sub``
equals one of the policy's resolved subjects (``status.from``), or starts with a pattern's
part before its trailing ``*``. A receiver no policy applies to accepts any valid token (the
``allow-all`` default authorization mode). Refusals are 403, as Knative's are.

:class:`Authorizer` holds the grants (receiver audience → allowed subject patterns) that the
eventing data plane compiles from the EventPolicies and Brokers it knows
(:mod:`bulut.eventing.policies`); :meth:`Authorizer.check` runs after the token was verified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bulut.errors import ForbiddenError


def subject_matches(subject: str, pattern: str) -> bool:
    """``pattern`` is a subject, or a prefix followed by ``*`` (Knative's glob on suffixes)."""
    if pattern.endswith("*"):
        return subject.startswith(pattern[:-1])
    return subject == pattern


class Authorizer:
    """The grants of every receiver an EventPolicy applies to."""

    def __init__(self, grants: Mapping[str, Sequence[str]] | None = None) -> None:
        self._grants: dict[str, tuple[str, ...]] = {}
        self.replace(grants or {})

    def replace(self, grants: Mapping[str, Sequence[str]]) -> None:
        """Use these grants from now on (audience → subject patterns)."""
        self._grants = {audience: tuple(patterns) for audience, patterns in grants.items()}

    def governed(self, audience: str | None) -> bool:
        """Whether any EventPolicy applies to the receiver with this audience."""
        return audience is not None and audience in self._grants

    def check(self, audience: str | None, subject: str | None) -> None:
        """Raise 403 unless no policy applies to ``audience`` or one allows ``subject``."""
        if not self.governed(audience):
            return
        patterns = self._grants[str(audience)]
        if subject is not None and any(subject_matches(subject, p) for p in patterns):
            return
        who = f"subject {subject!r}" if subject is not None else "a request without a token"
        raise ForbiddenError(f"{who} is not allowed by any EventPolicy that applies to {audience}")
