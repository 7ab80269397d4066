"""Queries and transactions over stored resources; the routes and reconcilers stay pure.

Objects are filed under their kind's store key (:attr:`bulut.apis.registry.ApiResource.key`):
the bare kind, or ``Kind.group`` for a kind whose name a Knative kind already uses, so a core
v1 Service and a Knative Service of the same name live side by side. The key is derived from
each stored body's apiVersion and kind; a record an older version filed under another key is
refiled when its namespace is read (so stored state from before a kind was qualified loads).

A :class:`Transaction` loads a namespace as ``{(key, name): resource}``, and
``write`` stores a reconciled namespace back, touching only what changed. Every change takes
the next value of one counter as its ``metadata.resourceVersion`` (kube-apiserver's single
increasing version: lists report it, watches resume from it); a deletion's event carries
one too. It returns the watch events for the changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bulut.apis.registry import registry
from bulut.manifests.feed import Resource, ResourceEvent

from .models import Counter, ResourceRecord
from .patching import clone
from .reconcilers import Objects


class Transaction:
    """One database transaction."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def resource_version(self) -> int:
        """The latest resourceVersion handed out (0 for an empty store)."""
        counter = self._session.get(Counter, "resourceVersion")
        if counter is not None:
            return counter.value
        query = select(ResourceRecord.resource_version).order_by(
            col(ResourceRecord.resource_version).desc()
        )
        return self._session.exec(query).first() or 0

    def _next_version(self) -> int:
        counter = self._session.get(Counter, "resourceVersion")
        if counter is None:
            counter = Counter(name="resourceVersion", value=self.resource_version())
        counter.value += 1
        self._session.add(counter)
        return counter.value

    def get(self, kind: str, namespace: str, name: str) -> Resource | None:
        """One resource (``kind`` is its store key), or None."""
        record = self._record(kind, namespace, name)
        return clone(record.body) if record else None

    def _record(self, kind: str, namespace: str, name: str) -> ResourceRecord | None:
        query = select(ResourceRecord).where(
            ResourceRecord.kind == kind,
            ResourceRecord.namespace == namespace,
            ResourceRecord.name == name,
        )
        return self._session.exec(query).first()

    def find(self, kind: str | None = None, namespace: str | None = None) -> list[Resource]:
        """Resources of a kind (a store key; all kinds when None), in one namespace or all."""
        query = select(ResourceRecord)
        if kind is not None:
            query = query.where(ResourceRecord.kind == kind)
        if namespace is not None:
            query = query.where(ResourceRecord.namespace == namespace)
        query = query.order_by(col(ResourceRecord.namespace), col(ResourceRecord.name))
        return [r.body for r in self._session.exec(query)]  # fresh dicts per transaction

    def namespaces(self) -> list[str]:
        """Every namespace that holds something."""
        query = select(ResourceRecord.namespace).distinct()
        return sorted(self._session.exec(query))

    def load_namespace(self, namespace: str) -> Objects:
        """This namespace's resources keyed by (store key, name); misfiled records refiled."""
        query = select(ResourceRecord).where(ResourceRecord.namespace == namespace)
        objects: Objects = {}
        for record in self._session.exec(query.order_by(col(ResourceRecord.name))):
            key = registry().key_of(record.body)
            if key != record.kind:
                record.kind = key  # filed by an older version under another key
                self._session.add(record)
            objects[(key, record.name)] = record.body  # fresh dicts per transaction
        return objects

    def write(self, namespace: str, before: Objects, after: Objects) -> list[ResourceEvent]:
        """Store ``after`` where it differs from ``before``; the events, in a stable order."""
        events: list[ResourceEvent] = []
        for key in sorted(set(before) | set(after)):
            old, new = before.get(key), after.get(key)
            if new is None and old is not None:
                record = self._record(key[0], namespace, key[1])
                if record is not None:
                    self._session.delete(record)
                gone = clone(old)
                gone["metadata"]["resourceVersion"] = str(self._next_version())
                events.append({"type": "DELETED", "object": gone})
            elif new is not None and old is None:
                version = self._next_version()
                new["metadata"]["resourceVersion"] = str(version)
                self._session.add(_to_record(key[0], new, version, namespace))
                events.append({"type": "ADDED", "object": new})
            elif new is not None and old is not None and new != old:
                events.append({"type": "MODIFIED", "object": self._update(namespace, key, new)})
        self._session.flush()
        return events

    def _update(self, namespace: str, key: tuple[str, str], new: Resource) -> Resource:
        record = self._record(key[0], namespace, key[1])
        version = self._next_version()
        new["metadata"]["resourceVersion"] = str(version)
        if record is None:
            self._session.add(_to_record(key[0], new, version, namespace))
        else:
            record.resource_version = version
            record.uid = str(new["metadata"].get("uid", ""))
            record.body = clone(new)
            self._session.add(record)
        return new


def _to_record(key: str, resource: Resource, version: int, namespace: str) -> ResourceRecord:
    meta = resource["metadata"]
    return ResourceRecord(
        kind=key,
        namespace=namespace,
        name=meta["name"],
        uid=str(meta.get("uid", "")),
        resource_version=version,
        body=clone(resource),
    )


class Store:
    """Sessions over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A transaction committed on success and rolled back on any error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield Transaction(session)
                session.commit()
            except BaseException:
                session.rollback()
                raise
