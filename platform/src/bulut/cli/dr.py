"""`bulut dr`: back up, restore, list and verify local backups; run drills.

The commands work on files directly (no running server needed): a backup of a running
platform is still consistent (SQLite backup API, a Raft snapshot of its Vault).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bulut.errors import ConfigError
from bulut.settings import Settings, default_backup_key_file

if TYPE_CHECKING:
    from bulut.dr.sealing import BackupKey

from .groups import command_group
from .invocation import setting, settings_of
from .output import console, err_console, print_table

StateDir = Annotated[Path | None, setting("state_dir")]
Endpoint = Annotated[
    str | None, typer.Option(help="S3 endpoint URL for s3:// locations (MinIO, rclone, ...).")
]


KeyFile = Annotated[
    Path | None,
    setting(
        "backup_key_file",
        "--key-file",
        help="Backup key from `bulut dr keygen` (Vault's unseal key is stored sealed).",
    ),
]
CLEAR_KEY_NOTE = (
    "note: this backup holds Vault's unseal key and root token in clear; protect {url} "
    "like Vault itself, or run `bulut dr keygen` once: later backups are sealed with that key"
)


def _key(settings: Settings) -> BackupKey | None:
    """The backup key of these settings (``--key-file``, else the default key if any)."""
    from bulut.dr.sealing import configured_key

    return configured_key(settings)


def group() -> typer.Typer:
    """`bulut dr ...`."""
    return command_group(
        "Disaster recovery: backups, restores and drills.",
        {
            "backup": backup,
            "keygen": keygen,
            "restore": restore,
            "list": list_backups,
            "verify": verify,
            "drill": drill,
        },
    )


def backup(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="A directory or s3://BUCKET/PREFIX.")],
    state_dir: StateDir = None,
    endpoint: Endpoint = None,
    keep: Annotated[
        int | None, typer.Option(help="Then delete all but the newest KEEP backups.")
    ] = None,
    backup_key_file: KeyFile = None,
) -> None:
    """Take a consistent backup of the local platform (running or stopped)."""
    from bulut.dr.locations import parse_location
    from bulut.dr.schedule import prune
    from bulut.dr.snapshot import take_backup

    settings = settings_of(ctx)
    key = _key(settings)
    location = parse_location(to, endpoint=endpoint)
    with err_console().status("backing up…") as status:
        result = take_backup(
            settings.state_dir,
            location,
            database_url=settings.database_url,
            progress=lambda step: status.update(f"backing up: {step}…"),
            key=key,
        )
    removed = prune(location, keep) if keep is not None else []
    manifest = result.manifest
    console().print(
        f"backup {manifest.id} → {location.url}: {len(manifest.files)} files, "
        f"{manifest.size} bytes, log seq {manifest.log.seq}, vault {manifest.vault}, "
        f"{result.seconds:.2f}s"
    )
    for backup_id in removed:
        err_console().print(f"retention: removed {backup_id}")
    if manifest.sealed:
        console().print(f"sealed with {settings.backup_key_path}: {', '.join(manifest.sealed)}")
    elif manifest.vault != "none":
        err_console().print(CLEAR_KEY_NOTE.format(url=location.url))


def keygen(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Where to write the new key, never replaced "
            "(default ~/.config/bulut/backup.key: used without --key-file).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Make a backup key (32 random bytes, base64, mode 0600); keep a copy off this machine."""
    from bulut.dr.sealing import write_new_key

    target = path or default_backup_key_file()
    if target is None:
        raise ConfigError("no home directory for the default key: name a FILE")
    write_new_key(target)
    how = (
        "backups and restores here use it from now on"
        if path is None
        else f"pass --key-file {target} (or set {Settings.env_name('backup_key_file')})"
    )
    console().print(
        f"backup key written to {target}: {how}. Keep a copy off this machine: "
        "backups sealed with it cannot be restored without it"
    )


def restore(
    ctx: typer.Context,
    source: Annotated[str, typer.Option("--from", help="A directory or s3://BUCKET/PREFIX.")],
    state_dir: StateDir = None,
    endpoint: Endpoint = None,
    backup_id: Annotated[
        str | None, typer.Option("--backup", help="Backup id (default: the newest).")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Replace a non-empty state dir (moved aside, not deleted).")
    ] = False,
    replay_log: Annotated[
        bool, typer.Option(help="Replay shipped broker events newer than the backup.")
    ] = True,
    only: Annotated[
        list[str] | None,
        typer.Option(
            help="Restore only these components (controlplane, eventing, "
            "volumes, recipes, vault) into the existing state dir."
        ),
    ] = None,
    backup_key_file: KeyFile = None,
) -> None:
    """Verify every checksum, then rebuild a state dir from a backup."""
    from bulut.dr.locations import parse_location
    from bulut.dr.restore import restore_backup
    from bulut.dr.shipping import replay

    settings = settings_of(ctx)
    location = parse_location(source, endpoint=endpoint)
    with err_console().status("restoring…") as status:
        result = restore_backup(
            location,
            settings.state_dir,
            backup_id=backup_id,
            force=force,
            database_url=settings.database_url,
            progress=lambda step: status.update(f"restoring: {step}…"),
            after_fetch=(lambda staging, m: replay(location, staging, m)) if replay_log else None,
            only=frozenset(only) if only else None,
            builds_dir=settings.builds,
            key=_key(settings),
        )
    console().print(
        f"restored {result.manifest.id} into {result.state_dir} in {result.seconds:.2f}s "
        f"({result.replayed} shipped events replayed)"
    )
    if result.phases:
        phases = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in result.phases.items())
        console().print(f"phases: {phases}")
    for function, how in sorted(result.environments.items()):
        console().print(f"environment {function}: {how}")
    if result.moved_aside is not None:
        console().print(f"previous state kept at {result.moved_aside}")


def list_backups(
    source: Annotated[str, typer.Option("--from", help="A directory or s3://BUCKET/PREFIX.")],
    endpoint: Endpoint = None,
) -> None:
    """List complete backups, oldest first."""
    from bulut.dr.locations import backup_ids, parse_location
    from bulut.dr.restore import read_manifest

    location = parse_location(source, endpoint=endpoint)
    rows = []
    for backup_id in backup_ids(location):
        manifest = read_manifest(location, backup_id)
        rows.append(
            [backup_id, str(len(manifest.files)), str(manifest.size),
             str(manifest.log.seq), manifest.vault]
        )  # fmt: skip
    print_table(["BACKUP", "FILES", "BYTES", "LOG SEQ", "VAULT"], rows, title="Backups")


def verify(
    source: Annotated[str, typer.Option("--from", help="A directory or s3://BUCKET/PREFIX.")],
    endpoint: Endpoint = None,
    backup_id: Annotated[
        str | None, typer.Option("--backup", help="Backup id (default: the newest).")
    ] = None,
) -> None:
    """Download a backup and check every file against its manifest checksum."""
    import tempfile

    from bulut.dr.locations import parse_location
    from bulut.dr.restore import fetch_and_verify, latest_backup, read_manifest

    location = parse_location(source, endpoint=endpoint)
    chosen = backup_id or latest_backup(location)
    manifest = read_manifest(location, chosen)
    with tempfile.TemporaryDirectory(prefix="bulut-verify-") as staging:
        fetch_and_verify(location, manifest, Path(staging))
    console().print(f"backup {chosen}: {len(manifest.files)} files, all checksums match")


def drill(
    ctx: typer.Context,
    scenario_file: Annotated[Path, typer.Argument(help="disaster-recovery/drills/<x>.yaml")],
    cluster: Annotated[
        bool, typer.Option(help="Run it on the cluster of the current kubeconfig (Velero).")
    ] = False,
    dr_reports_dir: Annotated[
        Path | None,
        setting(
            "dr_reports_dir",
            "--report-dir",
            "--reports-dir",
            help="Where the Markdown and JSON reports go (default: <state dir>/reports).",
        ),
    ] = None,
    keep: Annotated[bool, typer.Option(help="Keep the drill's temporary folder.")] = False,
    velero_namespace: Annotated[
        str,
        typer.Option(help="Velero's namespace with --cluster (OADP: openshift-adp)."),
    ] = "velero",
) -> None:
    """Run a drill end to end and write its report (RTO, RPO, checks)."""
    from bulut.dr.drills.runner import write_report
    from bulut.dr.drills.scenario import load_scenario

    settings = settings_of(ctx)
    scenario = load_scenario(scenario_file)
    if cluster:
        from bulut.dr.velero.drill import require_cluster

        require_cluster()
    with err_console().status(f"drill {scenario.name}: starting…") as status:

        def progress(step: str) -> None:
            err_console().print(f"  · {step}")
            status.update(f"drill {scenario.name}: {step}…")

        if cluster:
            from bulut.dr.velero.drill import run_cluster_drill

            report = run_cluster_drill(
                scenario, progress=progress, velero_namespace=velero_namespace
            )
        else:
            from bulut.dr.drills.runner import DrillRunner

            runner = DrillRunner(scenario, Path.cwd(), settings, progress=progress, keep=keep)
            report = runner.run()
    markdown, document = write_report(report, settings.reports)
    console().print(report.to_markdown())
    console().print(f"report: {markdown} and {document}")
    if not report.passed:
        raise typer.Exit(1)
