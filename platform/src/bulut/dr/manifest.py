"""The backup manifest: what a backup holds, each file's sha256, and the log position.

A backup is a folder (or an S3 prefix) named by its id, holding the files and, written
last, ``manifest.json``. A backup without a manifest is partial; a file whose sha256
differs from the manifest is corrupted. :func:`verify` turns both into one
:class:`~bulut.errors.BackupError` naming the file.

A manifest is read as untrusted input: its id must be one name, and every path a
relative path under the root of its component (:data:`COMPONENT_ROOTS`), with no
``..``, so that nothing it lists can make verify or restore write outside the backup's
staging folder. A manifest that breaks this is refused before any file is fetched.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bulut.errors import BackupError

FORMAT = "bulut-backup/1"
MANIFEST = "manifest.json"
CHUNK = 1 << 20

#: The top-level names each component's files live under, in a backup and in a state dir.
COMPONENT_ROOTS: dict[str, frozenset[str]] = {
    "controlplane": frozenset({"bulut.db", "controlplane"}),
    "eventing": frozenset({"eventing", "shipped"}),
    "volumes": frozenset({"volumes"}),
    "recipes": frozenset({"builds"}),
    "vault": frozenset({"vault"}),
}
_BACKUP_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def component_of(path: str) -> str:
    """The component a backup path belongs to, by its first segment ("other" if none)."""
    head = path.split("/", 1)[0]
    for component, roots in COMPONENT_ROOTS.items():
        if head in roots:
            return component
    return "other"


def path_problem(path: object, component: str | None = None) -> str | None:
    """Why ``path`` cannot be a file of a backup (of ``component``), or None.

    A backup path is relative, in POSIX form, without empty, ``.`` or ``..`` segments,
    and under a root of its component (any component's when ``component`` is None).
    """
    if not isinstance(path, str) or not path:
        return "must be a non-empty string"
    if path.startswith("/") or "\\" in path or "\0" in path:
        return f"{path!r:.120} is not a relative path inside the backup"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return f"{path!r:.120} has an empty, '.' or '..' segment (it would leave the backup)"
    found = component_of(path)
    if found == "other" or (component is not None and found != component):
        roots = sorted(COMPONENT_ROOTS.get(component or "", set())) or sorted(
            root for roots in COMPONENT_ROOTS.values() for root in roots
        )
        return f"{path!r:.120} is not under {component or 'a component'} ({', '.join(roots)})"
    return None


@dataclass(frozen=True)
class FileEntry:
    """One file of a backup: its path inside the backup, component, size and sha256."""

    path: str
    component: str
    size: int
    sha256: str


@dataclass(frozen=True)
class LogPosition:
    """Where the broker log stood in the backup: the RPO anchor.

    ``seq`` is the highest sequence number in the backed-up log, ``received`` the
    acceptance time (Unix seconds) of that event, ``events`` how many events it holds.
    """

    seq: int = 0
    received: float = 0.0
    events: int = 0


@dataclass(frozen=True)
class Manifest:
    """Everything `bulut dr restore` needs to check and rebuild a platform."""

    id: str
    created: float
    source: str
    database: str  # sqlite | postgresql
    vault: str  # raft-archive | raft-files | raft-snapshot (older) | none
    log: LogPosition
    files: tuple[FileEntry, ...]
    format: str = FORMAT
    notes: tuple[str, ...] = field(default=())
    # Files stored sealed with a backup key (bulut.dr.sealing): ``<path>.sealed`` in the
    # backup, ``<path>`` once unsealed. Empty: nothing is sealed.
    sealed: tuple[str, ...] = field(default=())

    @property
    def size(self) -> int:
        """Total bytes of the backed-up files."""
        return sum(entry.size for entry in self.files)

    def components(self) -> dict[str, int]:
        """Files per component."""
        counts: dict[str, int] = {}
        for entry in self.files:
            counts[entry.component] = counts.get(entry.component, 0) + 1
        return counts

    def to_json(self) -> str:
        """The manifest as written to ``manifest.json``."""
        document = asdict(self)
        document["createdAt"] = datetime.fromtimestamp(self.created, UTC).isoformat()
        return json.dumps(document, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, *, where: str = MANIFEST) -> Manifest:
        """Parse ``manifest.json``; a damaged one is a BackupError naming ``where``."""
        try:
            document: dict[str, Any] = json.loads(text)
            if not isinstance(document, dict):
                raise BackupError(f"{where}: damaged manifest (not a JSON object)")
            if document.get("format") != FORMAT:
                raise BackupError(
                    f"{where}: unknown backup format {document.get('format')!r} "
                    f"(this bulut reads {FORMAT})"
                )
            _check_paths(document, where)
            return cls(
                id=str(document["id"]),
                created=float(document["created"]),
                source=str(document["source"]),
                database=str(document["database"]),
                vault=str(document["vault"]),
                log=LogPosition(**document["log"]),
                files=tuple(FileEntry(**entry) for entry in document["files"]),
                notes=tuple(document.get("notes", ())),
                sealed=tuple(str(path) for path in document.get("sealed", ())),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise BackupError(f"{where}: damaged manifest ({error})") from None


def _check_paths(document: dict[str, Any], where: str) -> None:
    """Refuse an id or a path that could reach outside the backup (see the module doc)."""
    backup_id = document["id"]
    if not isinstance(backup_id, str) or _BACKUP_ID.fullmatch(backup_id) is None:
        raise BackupError(f"{where}: id {backup_id!r:.120} is not one name ([A-Za-z0-9._-])")
    for index, entry in enumerate(document["files"]):
        component = entry.get("component") if isinstance(entry, dict) else None
        if component not in COMPONENT_ROOTS:
            raise BackupError(
                f"{where}: files[{index}].component {component!r:.80} is not one of "
                f"{', '.join(sorted(COMPONENT_ROOTS))}"
            )
        problem = path_problem(entry.get("path"), component)
        if problem is not None:
            raise BackupError(f"{where}: files[{index}].path {problem}")
    for index, path in enumerate(document.get("sealed", ())):
        problem = path_problem(path)
        if problem is not None:
            raise BackupError(f"{where}: sealed[{index}] {problem}")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_hashed(source: Path, target: Path) -> str:
    """Copy ``source`` to ``target`` and return the sha256 of the bytes written.

    One read of the source: the digest is of exactly what lands in ``target``.
    """
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with source.open("rb", buffering=0) as reader, target.open("wb", buffering=0) as writer:
        while count := reader.readinto(buffer):
            digest.update(view[:count])
            writer.write(view[:count])
    return digest.hexdigest()


def entry_for(root: Path, path: Path, component: str) -> FileEntry:
    """A :class:`FileEntry` for ``path`` (relative to ``root`` in the backup)."""
    return FileEntry(
        path=path.relative_to(root).as_posix(),
        component=component,
        size=path.stat().st_size,
        sha256=sha256_file(path),
    )


def problems(manifest: Manifest, actual: Mapping[str, str | None]) -> list[str]:
    """What is wrong with a backup, given each file's actual sha256 (None = missing).

    Pure: the caller computes the checksums. An empty list means the backup is whole.
    """
    found: list[str] = []
    for entry in manifest.files:
        digest = actual.get(entry.path)
        if digest is None:
            found.append(f"{entry.path}: missing from backup {manifest.id} (partial backup)")
        elif digest != entry.sha256:
            found.append(
                f"{entry.path}: checksum mismatch in backup {manifest.id}: "
                f"manifest says sha256 {entry.sha256}, file has {digest}"
            )
    return found


def verify(manifest: Manifest, actual: Mapping[str, str | None]) -> None:
    """Raise a BackupError naming the first bad file (and how many are bad)."""
    found = problems(manifest, actual)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise BackupError(f"refusing to restore: {found[0]}{more}")


def new_backup_id(now: float, suffix: str) -> str:
    """Backup ids sort by time: ``20261128T043000Z-<suffix>``."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{suffix}"


def select_expired(backup_ids: Iterable[str], keep: int) -> list[str]:
    """The ids a retention of ``keep`` newest backups removes (oldest first)."""
    if keep < 1:
        raise BackupError(f"--backup-keep must be at least 1, not {keep}")
    ordered = sorted(backup_ids)
    return ordered[: max(0, len(ordered) - keep)]
