"""The subset of Vault Agent (consul-template) templates that injection annotations use.

Supported: text; ``{{ with secret "PATH" }}…{{ end }}``; fields such as
``{{ .Data.data.api_key }}`` or ``{{ .Data.username }}``; ``{{ range $k, $v := .Data.data }}
{{ $k }}={{ $v }}{{ end }}``; and the ``{{-`` / ``-}}`` whitespace trims. Anything else is a
:class:`~bulut.errors.InvalidResourceError` naming the annotation, so a template that would
fail in Vault Agent fails here too instead of rendering something else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bulut.errors import InvalidResourceError

SecretReader = Callable[[str], Mapping[str, Any]]

_ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.DOTALL)
_WITH = re.compile(r'^with\s+secret\s+"([^"]+)"$')
_RANGE = re.compile(r"^range\s+\$(\w+)\s*,\s*\$(\w+)\s*:=\s*(\S+)$")
_FIELD = re.compile(r"^(\.[A-Za-z_][\w.]*|\$\w+)$")


@dataclass
class _Node:
    kind: str  # text | field | with | range
    value: str = ""
    names: tuple[str, str] = ("", "")
    body: list[_Node] = field(default_factory=list)


def _tokens(source: str) -> list[tuple[str, str]]:
    """Split into ("text", s) and ("action", s) with trim markers applied."""
    out: list[tuple[str, str]] = []
    position = 0
    for match in _ACTION.finditer(source):
        text = source[position : match.start()]
        if match.group(1):
            text = text.rstrip()
        if out and out[-1][0] == "trim":
            out.pop()
            text = text.lstrip()
        out.append(("text", text))
        out.append(("action", match.group(2)))
        if match.group(3):
            out.append(("trim", ""))
        position = match.end()
    tail = source[position:]
    if out and out[-1][0] == "trim":
        out.pop()
        tail = tail.lstrip()
    out.append(("text", tail))
    return out


def parse(source: str, *, where: str) -> list[_Node]:
    """Parse a template; ``where`` names the annotation for errors."""
    root: list[_Node] = []
    stack: list[list[_Node]] = [root]
    for kind, value in _tokens(source):
        current = stack[-1]
        if kind == "text":
            if value:
                current.append(_Node("text", value))
            continue
        if value == "end":
            if len(stack) == 1:
                raise InvalidResourceError(f"{where}: `end` without `with` or `range`", field=where)
            stack.pop()
        elif match := _WITH.match(value):
            node = _Node("with", match.group(1))
            current.append(node)
            stack.append(node.body)
        elif match := _RANGE.match(value):
            node = _Node("range", match.group(3), (match.group(1), match.group(2)))
            current.append(node)
            stack.append(node.body)
        elif _FIELD.match(value):
            current.append(_Node("field", value))
        else:
            raise InvalidResourceError(
                f"{where}: unsupported template action `{{{{ {value} }}}}`", field=where
            )
    if len(stack) != 1:
        raise InvalidResourceError(f"{where}: missing `{{{{ end }}}}`", field=where)
    return root


def _lookup(expression: str, dot: Any, variables: Mapping[str, Any]) -> Any:
    if expression.startswith("$"):
        return variables.get(expression[1:], "")
    value = dot
    for part in expression.strip(".").split("."):
        if not part:
            continue
        value = value.get(part, "") if isinstance(value, Mapping) else ""
    return value


def go_format(value: Any) -> str:
    """Format a value the way Go's text/template prints it (maps as ``map[k:v]``)."""
    if isinstance(value, Mapping):
        inner = " ".join(f"{key}:{go_format(value[key])}" for key in sorted(value))
        return f"map[{inner}]"
    if isinstance(value, list):
        return "[" + " ".join(go_format(item) for item in value) + "]"
    if value is None:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _render(nodes: list[_Node], dot: Any, variables: dict[str, Any], read: SecretReader) -> str:
    out: list[str] = []
    for node in nodes:
        if node.kind == "text":
            out.append(node.value)
        elif node.kind == "field":
            out.append(go_format(_lookup(node.value, dot, variables)))
        elif node.kind == "with":
            out.append(
                _render(node.body, {"Data": read(node.value).get("data", {})}, variables, read)
            )
        else:
            collection = _lookup(node.value, dot, variables)
            if isinstance(collection, Mapping):
                for key in sorted(collection):
                    scope = {**variables, node.names[0]: key, node.names[1]: collection[key]}
                    out.append(_render(node.body, dot, scope, read))
    return "".join(out)


def render(source: str, read: SecretReader, *, where: str) -> str:
    """Render a template, reading secrets through ``read`` (a raw logical read)."""
    return _render(parse(source, where=where), {}, {}, read)


def default_template(path: str) -> str:
    """What Vault Agent renders without a template annotation: every field, Go-formatted."""
    body = "{{ range $k, $v := .Data }}{{ $k }}: {{ $v }}\n{{ end }}"
    return f'{{{{ with secret "{path}" }}}}{body}{{{{ end }}}}'
