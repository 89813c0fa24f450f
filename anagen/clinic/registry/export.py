"""The de-identified export's files (the pure rules live in ``anagen.deidentify``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from anagen import deidentify

logger = logging.getLogger("anagen.registry")


@dataclass(frozen=True)
class ExportFile:
    name: str
    content_type: str
    description: str


#: The files of one export, by the key the download URL names.
FILES: dict[str, ExportFile] = {
    "csv": ExportFile("registry-outcomes.csv", "text/csv", "Outcome table (CSV)"),
    "parquet": ExportFile(
        "registry-outcomes.parquet", "application/vnd.apache.parquet", "Outcome table (Parquet)"
    ),
    "dictionary-md": ExportFile(
        "registry-data-dictionary.md", "text/markdown", "Data dictionary (markdown)"
    ),
    "dictionary-csv": ExportFile(
        "registry-data-dictionary.csv", "text/csv", "Data dictionary (CSV)"
    ),
    "redcap": ExportFile(
        "registry-redcap-data-dictionary.csv",
        "text/csv",
        "REDCap data dictionary (import into a REDCap project, then the CSV)",
    ),
}


#: The files that hold outcome rows (ids hashed, dates shifted): they need the export key.
KEYED = frozenset({"csv", "parquet"})


def export_key_configured() -> bool:
    """Whether ``ANAGEN_EXPORT_KEY`` is long enough to hash ids and shift dates."""
    return len(str(getattr(settings, "ANAGEN_EXPORT_KEY", "") or "")) >= 16


def export_key() -> str:
    if not export_key_configured():
        raise ImproperlyConfigured("ANAGEN_EXPORT_KEY is not set: the export cannot hash ids.")
    return str(settings.ANAGEN_EXPORT_KEY)


def render(kind: str, frame: pd.DataFrame) -> bytes:
    """One export file's bytes from the outcome rows (``selectors.export_frame``)."""
    if kind == "dictionary-md":
        return deidentify.dictionary_markdown().encode("utf-8")
    if kind == "dictionary-csv":
        return deidentify.dictionary_frame().to_csv(index=False).encode("utf-8")
    if kind == "redcap":
        return deidentify.redcap_dictionary().to_csv(index=False).encode("utf-8")
    table = deidentify.deidentify(frame, key=export_key())
    if kind == "csv":
        return deidentify.to_csv_bytes(table)
    if kind == "parquet":
        return deidentify.to_parquet_bytes(table)
    raise KeyError(kind)


def write_all(outdir: Path, frame: pd.DataFrame) -> list[Path]:
    """Write every export file into ``outdir`` (created if missing); returns the paths."""
    outdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, spec in FILES.items():
        path = outdir / spec.name
        path.write_bytes(render(kind, frame))
        paths.append(path)
    return paths


def logged(*, user_id: int | None, kind: str, rows: int) -> None:
    """Log an export as an event: who, what, how many rows (never a value)."""
    logger.info("registry export", extra={"user_id": user_id, "kind": kind, "rows": rows})
