"""Backup and restore of one installation: the database, the media files, a manifest.

A backup is a directory (or the same directory as a ``.tar.gz`` archive)::

    manifest.json   format, time, database engine, Django version, applied migrations,
                    and the SHA-256 and size of every other file
    db.dump         PostgreSQL: ``pg_dump --format=custom`` (restored with ``pg_restore``)
    db.sqlite3      SQLite: a consistent copy made with SQLite's online backup API
    media/...       every stored file (photos, trichoscopy images, overlays, signed PDFs)

Restore checks the whole manifest before it writes anything, and refuses an installation that
is not empty (a database with any table, or a media folder with any file): it never merges into
or overwrites a clinic's records. Schedule and retention: docs/operations.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.db import connection

FORMAT = 1
MANIFEST = "manifest.json"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


@dataclass(frozen=True)
class Summary:
    path: Path
    files: int
    bytes: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _engine() -> str:
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {vendor}.")
    return vendor


def _pg_env() -> tuple[list[str], dict[str, str]]:
    s = connection.settings_dict
    args = ["-h", str(s.get("HOST") or "127.0.0.1"), "-p", str(s.get("PORT") or 5432)]
    args += ["-U", str(s["USER"]), "-d", str(s["NAME"])]
    return args, {**os.environ, "PGPASSWORD": str(s.get("PASSWORD") or "")}


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip()[-2000:]}")


def _migrations() -> list[list[str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        return [[str(app), str(name)] for app, name in cursor.fetchall()]


def backup(destination: Path, *, archive: bool = False) -> Summary:
    """Write a backup of this installation to ``destination`` (a new directory, or with
    ``archive`` a ``.tar.gz`` file). Raises ``BackupError`` if the destination exists."""
    destination = Path(destination)
    target = (
        destination.with_name(destination.name.removesuffix(".tar.gz")) if archive else destination
    )
    if destination.exists() or target.exists():
        raise BackupError(f"{destination} already exists: choose a new name for each backup.")
    engine = _engine()
    work = Path(tempfile.mkdtemp(prefix=".backup-", dir=target.parent)) / target.name
    work.mkdir()
    try:
        if engine == "postgresql":
            args, env = _pg_env()
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    *args,
                    "-f",
                    str(work / "db.dump"),
                ],
                env,
                "pg_dump",
            )
        else:
            connection.ensure_connection()
            with sqlite3.connect(work / "db.sqlite3") as copy:
                connection.connection.backup(copy)
            copy.close()
        media_root = Path(settings.MEDIA_ROOT)
        if media_root.is_dir():
            for source in sorted(p for p in media_root.rglob("*") if p.is_file()):
                relative = source.relative_to(media_root)
                (work / "media" / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, work / "media" / relative)
        files: dict[str, dict[str, Any]] = {
            p.relative_to(work).as_posix(): {"sha256": _sha256(p), "bytes": p.stat().st_size}
            for p in sorted(work.rglob("*"))
            if p.is_file()
        }
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "engine": engine,
            "django": django.get_version(),
            "migrations": _migrations(),
            "files": files,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        total = sum(f["bytes"] for f in files.values())
        if archive:
            with tarfile.open(destination, "w:gz") as tar:
                tar.add(work, arcname=target.name)
            result = destination
        else:
            work.rename(target)
            result = target
        return Summary(result, len(files), total)
    finally:
        shutil.rmtree(work.parent, ignore_errors=True)


def _unpack(source: Path, scratch: Path) -> Path:
    if source.is_dir():
        return source
    if not source.is_file() or not source.name.endswith(".tar.gz"):
        raise BackupError(f"{source} is neither a backup directory nor a .tar.gz backup.")
    with tarfile.open(source, "r:gz") as tar:
        tar.extractall(scratch, filter="data")  # refuses absolute paths, .., links out
    found = [p.parent for p in scratch.rglob(MANIFEST)]
    if len(found) != 1:
        raise BackupError(f"{source} holds no single {MANIFEST}: not an Anagen backup.")
    return found[0]


def verify(folder: Path) -> dict[str, Any]:
    """The manifest of the backup in ``folder`` once every file matches it (``BackupError``
    naming the first file that is missing, extra or altered)."""
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{folder / MANIFEST} cannot be read: {error}") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Backup format {manifest.get('format')!r} is not {FORMAT}.")
    listed: dict[str, dict[str, Any]] = manifest.get("files", {})
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {
        MANIFEST
    }
    for name in sorted(set(listed) - present):
        raise BackupError(f"Manifest mismatch: {name} is listed but missing from the backup.")
    for name in sorted(present - set(listed)):
        raise BackupError(f"Manifest mismatch: {name} is in the backup but not in its manifest.")
    for name, entry in sorted(listed.items()):
        if _sha256(folder / name) != entry["sha256"]:
            raise BackupError(f"Manifest mismatch: {name} does not match its SHA-256 checksum.")
    return manifest


def _tables() -> list[str]:
    return sorted(connection.introspection.table_names())


def restore(source: Path) -> Summary:
    """Restore the backup at ``source`` into this installation, which must be empty."""
    engine = _engine()
    with tempfile.TemporaryDirectory(prefix="anagen-restore-") as scratch:
        folder = _unpack(Path(source), Path(scratch))
        manifest = verify(folder)
        if manifest["engine"] != engine:
            raise BackupError(
                f"This backup is of a {manifest['engine']} database; this installation uses "
                f"{engine}. Restore into an installation on the same engine."
            )
        tables = _tables()
        if tables:
            raise BackupError(
                f"This installation is not empty: its database has {len(tables)} tables. Restore "
                "only into a new, empty database (created, not migrated) and an empty media folder."
            )
        media_root = Path(settings.MEDIA_ROOT)
        if media_root.is_dir() and any(p.is_file() for p in media_root.rglob("*")):
            raise BackupError(
                f"This installation is not empty: {media_root} holds files. Restore only into "
                "an empty media folder."
            )
        if engine == "postgresql":
            args, env = _pg_env()
            _run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                    *args,
                    str(folder / "db.dump"),
                ],
                env,
                "pg_restore",
            )
        else:
            connection.ensure_connection()
            with sqlite3.connect(folder / "db.sqlite3") as original:
                original.backup(connection.connection)
            original.close()
        copied = 0
        for name in manifest["files"]:
            if name.startswith("media/"):
                target = media_root / name.removeprefix("media/")
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(folder / name, target)
                copied += 1
        total = sum(f["bytes"] for f in manifest["files"].values())
        return Summary(Path(source), copied, total)
