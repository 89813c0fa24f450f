"""`manage.py backup` / `restore` (and `anagen backup` / `restore`): identical content after a
round trip into an empty installation, compared table by table and file by file; refusals of a
non-empty installation and of a manifest mismatch. On SQLite always, on PostgreSQL with
TEST_POSTGRES_URL (each installation a throwaway database of its own)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow(90)

SEED = """
from django.core.files.base import ContentFile
from tests.clinic.factories import PatientFactory, SiteFactory, UserFactory
site = SiteFactory(code="BKP")
user = UserFactory.at("coordinator", site)
for i in range(3):
    p = PatientFactory(site=site, created_by=user, family_name=f"Backup{i}")
    p.photo.save("face.png", ContentFile(bytes(range(256)) * (i + 1)), save=True)
"""


def _manage(var: Path, database_url: str | None, *args: str, check: bool = True):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ANAGEN_"))},
        "DJANGO_SETTINGS_MODULE": "anagen.clinic.settings.local",
        "ANAGEN_VAR_DIR": str(var),
    }
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def _files(media: Path) -> dict[str, str]:
    return {
        p.relative_to(media).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in media.rglob("*")
        if p.is_file()
    }


def _sqlite_tables(path: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as db:
        names = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {n: sorted(db.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}  # noqa: S608


def _pg_tables(url: str) -> dict[str, list[tuple]]:
    import psycopg

    with psycopg.connect(url) as db:
        names = [
            r[0]
            for r in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname='public' ORDER BY tablename"
            )
        ]
        return {n: sorted(db.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}  # noqa: S608


def _round_trip(tmp_path: Path, source_url: str | None, target_url: str | None, tables):
    source, target, spare = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    _manage(source, source_url, "manage.py", "migrate", "--noinput", "-v", "0")
    _manage(source, source_url, "manage.py", "shell", "-c", SEED)
    archive = tmp_path / "nightly.tar.gz"
    _manage(source, source_url, "-m", "anagen.cli", "backup", str(archive))
    folder = tmp_path / "nightly"
    _manage(source, source_url, "manage.py", "backup", str(folder))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sum(name.startswith("media/") for name in manifest["files"]) == 3

    restored = _manage(target, target_url, "-m", "anagen.cli", "restore", str(archive))
    assert "Restored" in restored.stdout
    before, after = tables(source), tables(target)
    assert before.keys() == after.keys() and "patients_patient" in after
    for name in before:
        assert before[name] == after[name], name
    assert len(after["patients_patient"]) == 3
    assert _files(source / "media") == _files(target / "media") != {}

    # Restoring again into the now-full installation: refused, nothing changed.
    again = _manage(target, target_url, "manage.py", "restore", str(folder), check=False)
    assert again.returncode != 0 and "not empty" in again.stderr
    assert tables(target) == after

    # An altered file in the backup: refused before anything is written.
    photo = next((folder / "media").rglob("*.png"))
    photo.write_bytes(photo.read_bytes()[:-1] + b"!")
    return spare, folder, photo


def _refuses_tampered(spare: Path, url: str | None, folder: Path, photo: Path, tables):
    broken = _manage(spare, url, "manage.py", "restore", str(folder), check=False)
    assert broken.returncode != 0
    assert "Manifest mismatch" in broken.stderr and photo.name in broken.stderr
    assert not tables(spare) and not (spare / "media").exists()
    photo.unlink()
    missing = _manage(spare, url, "manage.py", "restore", str(folder), check=False)
    assert "listed but missing" in missing.stderr


def test_sqlite_backup_restores_identically_into_an_empty_installation(tmp_path):
    def tables(var: Path) -> dict[str, list[tuple]]:
        path = var / "anagen.sqlite3"
        return _sqlite_tables(path) if path.exists() else {}

    spare, folder, photo = _round_trip(tmp_path, None, None, tables)
    _refuses_tampered(spare, None, folder, photo, tables)


@pytest.mark.postgres
def test_postgres_backup_restores_identically_into_an_empty_installation(tmp_path):
    import psycopg

    server = os.environ["TEST_POSTGRES_URL"]
    parts = urlsplit(server)
    names = [f"anagen_backup_{role}_{uuid.uuid4().hex[:8]}" for role in ("a", "b", "c")]
    urls = [urlunsplit(parts._replace(path="/" + n)) for n in names]
    with psycopg.connect(server, autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        by_var = {}

        def tables(var: Path) -> dict[str, list[tuple]]:
            return _pg_tables(by_var[var.name])

        by_var.update(a=urls[0], b=urls[1], c=urls[2])
        spare, folder, photo = _round_trip(tmp_path, urls[0], urls[1], tables)
        _refuses_tampered(spare, urls[2], folder, photo, tables)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
