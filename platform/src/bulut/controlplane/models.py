"""SQLModel family: the one table, and the request/response models of the API."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

Action = Literal["created", "configured", "unchanged", "ignored"]


class ResourceRecord(SQLModel, table=True):
    """One stored resource; ``body`` is its full Knative JSON, ``kind`` its kind's store key
    (``Service``, or ``Service.core`` for a core v1 Service: bulut.apis.registry)."""

    __tablename__ = "resources"
    __table_args__ = (UniqueConstraint("kind", "namespace", "name", name="uq_resource_key"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True, max_length=64)
    namespace: str = Field(index=True, max_length=63)
    name: str = Field(max_length=253)
    uid: str = Field(max_length=64)
    resource_version: int = Field(default=1)
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class Counter(SQLModel, table=True):
    """A named counter; ``resourceVersion`` is the one every write advances."""

    __tablename__ = "counters"

    name: str = Field(primary_key=True, max_length=64)
    value: int = Field(default=0)


class ApplyResult(SQLModel):
    """What apply did with one document."""

    kind: str
    namespace: str
    name: str
    action: Action
    note: str = ""
    api_version: str = ""

    @property
    def qualified(self) -> str:
        """kubectl's ``service.serving.knative.dev/orders`` spelling."""
        group = self.api_version.rsplit("/", 1)[0] if "/" in self.api_version else ""
        singular = self.kind.lower()
        return f"{singular}.{group}/{self.name}" if group else f"{singular}/{self.name}"


class ApplyRequest(SQLModel):
    """A batch of documents applied atomically."""

    documents: list[dict[str, Any]]
    namespace: str | None = Field(default=None, description="Default for documents without one.")
    dry_run: bool = Field(default=False, description="Validate only; store nothing.")


class ApplyResponse(SQLModel):
    """Per-document results, in input order."""

    results: list[ApplyResult]


class RuntimeReport(SQLModel):
    """Runtime facts for one resource (docs/architecture.md, "Runtime reports")."""

    runtime: dict[str, Any]


class Health(SQLModel):
    """Liveness/readiness answer."""

    status: str
