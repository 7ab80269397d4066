"""`bulut domain create|update|describe|list|delete`, modelled on kn domain."""

from __future__ import annotations

from typing import Annotated

import typer

from bulut.manifests.kn_sources import DOMAINS, domain_spec

from .eventing import (
    create_resource,
    delete_item,
    describe_item,
    list_kn_rows,
    update_resource,
)
from .groups import command_group
from .invocation import settings_of
from .resources import ControlPlaneClient, Namespace

Ref = Annotated[
    str | None,
    typer.Option("--ref", help="What the domain maps to: ksvc:NAME, kroute:NAME or NAME."),
]
Tls = Annotated[
    str | None,
    typer.Option("--tls", help='The Secret holding the domain\'s certificate ("" removes it).'),
]


def group() -> typer.Typer:
    """`bulut domain ...` (kn domain)."""
    return command_group(
        "Domain mappings: a domain of your own for a Service (kn domain).",
        {
            "create": create_domain,
            "update": update_domain,
            "list": (list_kn_rows, "List DomainMappings: Name, URL, Ready, Ksvc."),
            "describe": (describe_item, "Show a DomainMapping: URL, reference, conditions."),
            "delete": (delete_item, "Delete a DomainMapping (and the claim it auto-created)."),
        },
    )


def create_domain(
    ctx: typer.Context, name: str, ref: Ref = None, tls: Tls = None, namespace: Namespace = None
) -> None:
    """Map the domain NAME to a Service or Route of the namespace."""
    spec = domain_spec(ref, tls)
    create_resource(ctx, DOMAINS, "DomainMapping", name, spec, label="Domain mapping")


def update_domain(
    ctx: typer.Context, name: str, ref: Ref = None, tls: Tls = None, namespace: Namespace = None
) -> None:
    """Point the domain at another Service or Route, or change its TLS secret."""
    client = ControlPlaneClient(settings_of(ctx))
    update_resource(
        client, "domainmapping", name, lambda spec: domain_spec(ref, tls, spec), "Domain mapping"
    )
