"""Names, label keys and values, as ``k8s.io/apimachinery/pkg/util/validation`` checks them."""

from __future__ import annotations

import re

from ..findings import FieldError

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_C_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def invalid(path: str, value: object, detail: str) -> FieldError:
    """kube-apiserver's ``Invalid value: <value>: <detail>``."""
    shown = f'"{value}"' if isinstance(value, str) else str(value)
    return FieldError(path, f"Invalid value: {shown}: {detail}")


def required(path: str, detail: str = "") -> FieldError:
    """``Required value``."""
    return FieldError(path, f"Required value: {detail}" if detail else "Required value")


def unsupported(path: str, value: object, supported: list[str]) -> FieldError:
    """``Unsupported value: "x": supported values: "a", "b"``."""
    listed = ", ".join(f'"{item}"' for item in supported)
    return FieldError(path, f'Unsupported value: "{value}": supported values: {listed}')


def duplicate(path: str, value: object) -> FieldError:
    """``Duplicate value``."""
    return FieldError(path, f'Duplicate value: "{value}"')


def forbidden(path: str, detail: str) -> FieldError:
    """``Forbidden: <detail>``."""
    return FieldError(path, f"Forbidden: {detail}")


def is_dns1123_label(value: object) -> bool:
    """At most 63 lowercase alphanumerics or '-', starting and ending alphanumeric."""
    return isinstance(value, str) and len(value) <= 63 and bool(_DNS1123_LABEL.match(value))


def is_dns1123_subdomain(value: object) -> bool:
    """At most 253 characters of dot-separated DNS-1123 labels."""
    return isinstance(value, str) and len(value) <= 253 and bool(_DNS1123_SUBDOMAIN.match(value))


def dns1123_label(path: str, value: object) -> list[FieldError]:
    """A DNS-1123 label (container, port-less volume, namespace names)."""
    if is_dns1123_label(value):
        return []
    return [
        invalid(
            path,
            value,
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
            "'-', and must start and end with an alphanumeric character",
        )
    ]


def dns1123_subdomain(path: str, value: object) -> list[FieldError]:
    """A DNS-1123 subdomain (object names, ConfigMap and Secret references)."""
    if is_dns1123_subdomain(value):
        return []
    return [
        invalid(
            path,
            value,
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
            "'-' or '.', and must start and end with an alphanumeric character",
        )
    ]


def qualified_name_problems(value: str) -> list[str]:
    """Why ``value`` is not a qualified name (``[prefix/]name``), as apimachinery says it."""
    parts = value.split("/")
    if len(parts) > 2:
        return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.'"]
    name = parts[-1]
    problems: list[str] = []
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            problems.append("prefix part must be non-empty")
        elif not is_dns1123_subdomain(prefix):
            problems.append("prefix part a lowercase RFC 1123 subdomain must consist of lower case "
                            "alphanumeric characters, '-' or '.'")  # fmt: skip
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > 63:
        problems.append("name part must be no more than 63 characters")
    elif not _QUALIFIED_NAME.match(name):
        problems.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
            "and end with an alphanumeric character"
        )
    return problems


def label_key(path: str, value: object) -> list[FieldError]:
    """A label key: a qualified name."""
    if not isinstance(value, str):
        return [invalid(path, value, "must be a string")]
    return [invalid(path, value, problem) for problem in qualified_name_problems(value)]


def label_value(path: str, value: object) -> list[FieldError]:
    """A label value: empty, or at most 63 characters of ``[A-Za-z0-9-_.]`` bounded by alnum."""
    if not isinstance(value, str):
        return [invalid(path, value, "must be a string")]
    if value == "" or (len(value) <= 63 and _QUALIFIED_NAME.match(value)):
        return []
    return [
        invalid(
            path,
            value,
            "a valid label must be an empty string or consist of alphanumeric characters, '-', "
            "'_' or '.', and must start and end with an alphanumeric character",
        )
    ]


def port_name(path: str, value: object) -> list[FieldError]:
    """An IANA service name: at most 15 characters, a letter, no '--'."""
    if not isinstance(value, str):
        return [invalid(path, value, "must be a string")]
    problems: list[str] = []
    if len(value) > 15:
        problems.append("must be no more than 15 characters")
    if not _IANA_SVC_NAME.match(value):
        problems.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if "--" in value:
        problems.append("must not contain consecutive hyphens")
    if not any(char.isalpha() for char in value):
        problems.append("must contain at least one letter (a-z)")
    return [invalid(path, value, problem) for problem in problems]


def port_number(path: str, value: object) -> list[FieldError]:
    """A port number, 1..65535."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        return [invalid(path, value, "must be between 1 and 65535, inclusive")]
    return []


def port_number_or_name(path: str, value: object) -> list[FieldError]:
    """An int-or-string port: a number 1..65535 or an IANA service name."""
    if isinstance(value, str):
        if value.isdigit():
            return port_number(path, int(value))
        return port_name(path, value)
    return port_number(path, value)


def is_c_identifier(value: str) -> bool:
    """A C identifier (``[A-Za-z_][A-Za-z0-9_]*``)."""
    return bool(_C_IDENTIFIER.match(value))
