"""Which routes need a token, and which audience/scope: data, first match wins.

A policy file (YAML) lists rules::

    rules:
      - name: control-plane-reads
        host: "*"                 # glob on the Host header (without port)
        path: /apis/
        methods: [GET, HEAD]
        auth: none                # none | required
      - name: control-plane-writes
        path: /apis/
        auth: required
        scopes: [bulut.write]
      - name: broker
        path: /shop-dev/default
        auth: required
        audience: broker
    default: required            # what applies when no rule matches

``rate`` on a rule (``"50/s,burst=100"``) overrides the global rate limit for that route.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bulut.errors import ManifestError


@dataclass(frozen=True)
class Rule:
    """One route rule."""

    name: str
    host: str = "*"
    path: str = "/"
    methods: frozenset[str] = frozenset()
    auth: str = "required"
    audience: str | None = None
    scopes: frozenset[str] = frozenset()
    rate: str | None = None

    def matches(self, host: str, path: str, method: str) -> bool:
        """True when this rule covers the request."""
        return (
            path.startswith(self.path)
            and (not self.methods or method in self.methods)
            and fnmatch.fnmatchcase(host, self.host)
        )


@dataclass(frozen=True)
class AccessPolicy:
    """Ordered rules plus a default."""

    rules: tuple[Rule, ...] = ()
    default: Rule = field(default_factory=lambda: Rule(name="default"))

    def rule_for(self, host: str, path: str, method: str) -> Rule:
        """The first matching rule, else the default."""
        bare_host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        for rule in self.rules:
            if rule.matches(bare_host, path, method):
                return rule
        return self.default

    @classmethod
    def open(cls) -> AccessPolicy:
        """Nothing requires a token (auth off)."""
        return cls(default=Rule(name="default", auth="none"))

    @classmethod
    def from_mapping(cls, document: Mapping[str, Any], *, source: str = "policy") -> AccessPolicy:
        """Parse a policy document; errors name the source and the rule."""
        rules = []
        raw_rules = document.get("rules", [])
        if not isinstance(raw_rules, Sequence):
            raise ManifestError(f"{source}: rules: expected a list", field="rules")
        for index, raw in enumerate(raw_rules):
            rules.append(_rule(raw, f"{source}: rules[{index}]", f"rule-{index}"))
        default_auth = document.get("default", "required")
        default = _rule({"auth": default_auth}, f"{source}: default", "default")
        return cls(tuple(rules), default)

    @classmethod
    def load(cls, path: Path) -> AccessPolicy:
        """Read a policy YAML file."""
        try:
            document = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as error:
            raise ManifestError(f"{path}: cannot read policy: {error}") from None
        return cls.from_mapping(document, source=str(path))


def _rule(raw: Any, where: str, fallback_name: str) -> Rule:
    if not isinstance(raw, Mapping):
        raise ManifestError(f"{where}: expected a mapping")
    auth = raw.get("auth", "required")
    if auth not in ("none", "required"):
        raise ManifestError(f"{where}.auth: expected none or required, got {auth!r}", field="auth")
    path = raw.get("path", "/")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ManifestError(f"{where}.path: expected a path starting with /", field="path")
    return Rule(
        name=str(raw.get("name", fallback_name)),
        host=str(raw.get("host", "*")),
        path=path,
        methods=frozenset(str(m).upper() for m in raw.get("methods", [])),
        auth=auth,
        audience=raw.get("audience"),
        scopes=frozenset(str(s) for s in raw.get("scopes", [])),
        rate=raw.get("rate"),
    )
