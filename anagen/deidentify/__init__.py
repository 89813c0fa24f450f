"""De-identifying the registry's outcome table for research (pure: pandas, no Django).

What leaves the clinic
----------------------
* No name, contact, MRN, date of birth or free text: the export is built from a fixed list of
  fields (:data:`FIELDS`), never by dropping columns from a wider table, so a column added to
  the outcome table later does not leak.
* Record ids (patient, visit, image, site) are replaced by keyed hashes, HMAC-SHA256 with a
  per-installation key (:func:`keyed_hash`): stable across exports of one installation, not
  linkable across installations, not reversible without the key.
* Every date of a patient is shifted back by one offset of 0-364 days derived from the key
  and the patient (:func:`date_offset_days`), so intervals within a patient stay exact and
  the offset is the same in every export; days-since-baseline columns are not shifted.
* Ages above 89 are reported as 90 (HIPAA Safe Harbor).

The data dictionary comes as a table (:func:`dictionary_frame`), as markdown
(:func:`dictionary_markdown`) and as a REDCap data dictionary (:func:`redcap_dictionary`,
the 18 standard columns), so the CSV can be imported into a REDCap project whose first field
is ``record_id``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import pandas as pd

#: Hex digits kept of each keyed hash (96 bits: no collision in any clinic's registry).
HASH_HEX_DIGITS = 24
#: Dates of a patient move back by 0 .. DATE_SHIFT_DAYS - 1 days.
DATE_SHIFT_DAYS = 365
#: Ages above this are reported as ``AGE_CAP`` (HIPAA Safe Harbor: "90 or older").
AGE_CAP = 90

FieldType = Literal["id", "integer", "number", "date", "text", "yesno", "category"]


class DeidentificationError(ValueError):
    """The export cannot be built safely (no key, a missing source column)."""


def _key(key: bytes | str) -> bytes:
    raw = key.encode() if isinstance(key, str) else bytes(key)
    if len(raw) < 16:
        raise DeidentificationError("the export key must be at least 16 bytes long")
    return raw


def keyed_hash(key: bytes | str, kind: str, value: object) -> str:
    """HMAC-SHA256 of ``kind:value`` under ``key``, as hex (first :data:`HASH_HEX_DIGITS`).

    ``kind`` separates the id spaces, so patient 7 and visit 7 never share a hash.
    """
    message = f"{kind}:{value}".encode()
    return hmac.new(_key(key), message, hashlib.sha256).hexdigest()[:HASH_HEX_DIGITS]


def date_offset_days(key: bytes | str, patient_id: object) -> int:
    """The patient's date shift in days (0-364): the same for every date and every export."""
    digest = hmac.new(_key(key), f"date-shift:{patient_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % DATE_SHIFT_DAYS


def shift_date(day: date | None, offset_days: int) -> date | None:
    """``day`` moved back by ``offset_days`` (None stays None)."""
    return None if day is None or _missing(day) else day - timedelta(days=offset_days)


@dataclass(frozen=True)
class Field:
    """One exported column: its name (a REDCap variable name), meaning and type.

    ``source`` is the column of the input table it is computed from; ``kind`` of hashed ids
    is the id space (``patient``, ``visit``, ...).
    """

    name: str
    label: str
    type: FieldType
    source: str
    description: str = ""
    unit: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    section: str = ""


SEX = (("female", "Female"), ("male", "Male"), ("other", "Other / not stated"))
ZONES = (
    ("frontal", "Frontal"),
    ("mid_scalp", "Mid-scalp"),
    ("vertex", "Vertex"),
    ("temporal_left", "Temporal left"),
    ("temporal_right", "Temporal right"),
    ("occipital", "Occipital"),
)
METHODS = (
    ("svf_mechanical", "SVF, mechanical (filtration)"),
    ("svf_enzymatic", "SVF, enzymatic isolation"),
    ("cultured_adsc", "Culture-expanded ADSC"),
)
SATISFACTION = "1 very dissatisfied, 2 dissatisfied, 3 neither, 4 satisfied, 5 very satisfied"
SHEDDING = "-1 less than usual, 0 as usual, +1 more than usual"
GLOBAL = "-3 greatly decreased … 0 no change … +3 greatly increased, against baseline photographs"

#: Every exported column, in order. ``record_id`` (one row per analysed image) comes first,
#: as REDCap requires.
FIELDS: tuple[Field, ...] = (
    Field(
        "record_id",
        "Record (hashed image id)",
        "id",
        "image_id",
        "One row per analysed trichoscopy image (a visit × target site); keyed hash.",
        section="Identifiers (keyed hashes)",
    ),
    Field("patient_hash", "Patient (hashed)", "id", "patient_id", "Keyed hash of the patient."),
    Field("visit_hash", "Visit (hashed)", "id", "visit_id", "Keyed hash of the imaging visit."),
    Field("site_hash", "Clinic site (hashed)", "id", "site_id", "Keyed hash of the clinic site."),
    Field(
        "taken_on_shifted",
        "Visit date (shifted)",
        "date",
        "taken_on",
        "Date of the visit moved back by the patient's own offset of 0-364 days; "
        "intervals within a patient are exact.",
        section="Visit",
    ),
    Field(
        "visit_day",
        "Days since baseline",
        "integer",
        "visit_day",
        "Days since the patient's baseline imaging visit (day 0); not shifted.",
        "days",
    ),
    Field(
        "days_since_first_session",
        "Days since first session",
        "integer",
        "days_since_first_session",
        "Days since the first treatment session (negative before it; empty if none).",
        "days",
    ),
    Field(
        "window_day",
        "Protocol window",
        "integer",
        "window_day",
        "The follow-up window the visit falls in (14, 30, 60, 90, 180, 365; empty if none).",
        "days",
    ),
    Field("zone", "Scalp zone", "category", "zone", "Zone of the target site.", choices=ZONES),
    Field(
        "density_per_cm2",
        "Hair density",
        "number",
        "density_per_cm2",
        "All counted hairs per cm² (clinician-corrected where corrected).",
        "hairs/cm²",
        minimum=0,
        section="Measures",
    ),
    Field(
        "terminal_density_per_cm2",
        "Terminal hair density",
        "number",
        "terminal_density_per_cm2",
        "Hairs with shaft ≥ the registry's terminal threshold (30 µm by default) per cm².",
        "hairs/cm²",
        minimum=0,
    ),
    Field(
        "vellus_density_per_cm2",
        "Vellus hair density",
        "number",
        "vellus_density_per_cm2",
        "Hairs below the terminal threshold per cm².",
        "hairs/cm²",
        minimum=0,
    ),
    Field(
        "density_auto_per_cm2",
        "Hair density (automatic)",
        "number",
        "density_auto_per_cm2",
        "As measured by the analysis engine before any correction.",
        "hairs/cm²",
        minimum=0,
    ),
    Field(
        "terminal_auto_per_cm2",
        "Terminal density (automatic)",
        "number",
        "terminal_density_auto_per_cm2",
        "Terminal hairs per cm² before any correction.",
        "hairs/cm²",
        minimum=0,
    ),
    Field(
        "vellus_auto_per_cm2",
        "Vellus density (automatic)",
        "number",
        "vellus_density_auto_per_cm2",
        "Vellus hairs per cm² before any correction.",
        "hairs/cm²",
        minimum=0,
    ),
    Field(
        "corrected",
        "Corrected by a clinician",
        "yesno",
        "corrected",
        "1 when a clinician corrected the automatic count.",
    ),
    Field(
        "mean_diameter_um",
        "Mean shaft diameter",
        "number",
        "mean_diameter_um",
        "Mean diameter of the counted hairs.",
        "µm",
        minimum=0,
    ),
    Field(
        "thickness_mm_per_cm2",
        "Cumulative hair thickness",
        "number",
        "cumulative_thickness_mm_per_cm2",
        "Sum of shaft diameters per cm².",
        "mm/cm²",
        minimum=0,
    ),
    Field(
        "anagen_fraction",
        "Anagen fraction",
        "number",
        "anagen_fraction",
        "Share of hairs growing between the day-0 and day-2/3 phototrichogram images.",
        "fraction 0-1",
        minimum=0,
        maximum=1,
    ),
    Field(
        "quality_ok",
        "Image quality acceptable",
        "yesno",
        "quality_ok",
        "1 when the image passed the analysis's quality checks.",
    ),
    Field(
        "pull_test_hairs",
        "Pull test",
        "integer",
        "pull_test_hairs",
        "Hairs out in a gentle pull of about 60 hairs.",
        "hairs",
        minimum=0,
        maximum=60,
        section="Visit report",
    ),
    Field(
        "satisfaction",
        "Patient's satisfaction",
        "integer",
        "satisfaction",
        SATISFACTION,
        minimum=1,
        maximum=5,
    ),
    Field("shedding", "Shedding (patient)", "integer", "shedding", SHEDDING, minimum=-1, maximum=1),
    Field(
        "global_assessment",
        "Investigator's global assessment",
        "integer",
        "global_assessment",
        GLOBAL,
        minimum=-3,
        maximum=3,
    ),
    Field(
        "blinded_review_score",
        "Blinded photographic review",
        "number",
        "blinded_review_score",
        "Mean of the blinded reviewers' scores of this visit's photographs against baseline, "
        "shown side by side in random order without dates or names ("
        + GLOBAL.split(", ")[0]
        + ").",
        "points",
        minimum=-3,
        maximum=3,
    ),
    Field(
        "age_years",
        "Age at baseline",
        "integer",
        "age_years",
        f"Whole years at the baseline visit; ages above {AGE_CAP - 1} are given as {AGE_CAP}.",
        "years",
        minimum=0,
        maximum=AGE_CAP,
        section="Covariates",
    ),
    Field("sex", "Sex", "category", "sex", "", choices=SEX),
    Field("stage", "Stage at baseline", "text", "stage", "Norwood-Hamilton or Ludwig stage."),
    Field("protocol", "Protocol", "text", "protocol", "Name of the treatment protocol."),
    Field("method", "Cell method", "category", "method", "", choices=METHODS),
    Field("prp", "PRP given", "yesno", "prp", "1 when any session up to the visit added PRP."),
    Field(
        "sessions_to_date",
        "Sessions up to the visit",
        "integer",
        "sessions_to_date",
        "Treatment sessions on or before the visit date.",
        minimum=0,
    ),
    Field(
        "cells_to_date",
        "Cells up to the visit",
        "integer",
        "cells_to_date",
        "Total cells administered on or before the visit date.",
        "cells",
        minimum=0,
    ),
    Field(
        "adverse_events_to_date",
        "Adverse events up to the visit",
        "integer",
        "adverse_events_to_date",
        "Adverse events with onset on or before the visit date.",
        minimum=0,
    ),
    Field(
        "algorithm_version",
        "Analysis version",
        "text",
        "algorithm_version",
        "Version of the hair-analysis engine.",
    ),
)

#: The id spaces hashed, by source column.
HASHED = {"image_id": "image", "patient_id": "patient", "visit_id": "visit", "site_id": "site"}
#: Columns the input table must have.
REQUIRED_SOURCES = tuple(dict.fromkeys(f.source for f in FIELDS))


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA


def _yes_no(value: object) -> object:
    return pd.NA if _missing(value) else int(bool(value))


def deidentify(
    table: pd.DataFrame, *, key: bytes | str, fields: Sequence[Field] = FIELDS
) -> pd.DataFrame:
    """The export: exactly ``fields``, ids hashed, dates shifted per patient, ages capped.

    Parameters
    ----------
    table
        Outcome rows with at least the ``source`` columns of ``fields`` (``patient_id``,
        ``visit_id``, ``image_id``, ``site_id``, ``taken_on``, the measures, covariates).
    key
        The per-installation export key (≥ 16 bytes).

    Raises
    ------
    DeidentificationError
        On a short key or a missing source column.
    """
    secret = _key(key)
    missing = [f.source for f in fields if f.source not in table.columns]
    if missing:
        raise DeidentificationError(f"missing column(s): {', '.join(dict.fromkeys(missing))}")
    patients = table["patient_id"] if "patient_id" in table.columns else None
    offsets = (
        {pid: date_offset_days(secret, pid) for pid in patients.unique()}
        if patients is not None
        else {}
    )
    out: dict[str, pd.Series] = {}
    for f in fields:
        column = table[f.source]
        if f.type == "id":
            kind = HASHED.get(f.source, f.source)
            out[f.name] = pd.Series(
                [keyed_hash(secret, kind, v) for v in column], index=table.index, dtype=object
            )
        elif f.type == "date":
            if patients is None:
                raise DeidentificationError("dates can only be shifted with a patient_id column")
            shifted = [
                shift_date(day, offsets[pid]) for day, pid in zip(column, patients, strict=True)
            ]
            out[f.name] = pd.Series(shifted, index=table.index, dtype=object)
        elif f.type == "yesno":
            out[f.name] = column.map(_yes_no).astype("Int64")
        elif f.type == "integer":
            values = pd.to_numeric(column, errors="coerce")
            if f.name == "age_years":
                values = values.clip(upper=AGE_CAP)
            out[f.name] = values.round().astype("Int64")
        elif f.type == "number":
            out[f.name] = pd.to_numeric(column, errors="coerce").astype(float)
        else:
            out[f.name] = pd.Series(
                ["" if _missing(v) else str(v) for v in column], index=table.index, dtype=object
            )
    return pd.DataFrame(out, index=table.index).reset_index(drop=True)


def to_csv_bytes(export: pd.DataFrame) -> bytes:
    """The export as UTF-8 CSV (ISO dates, empty cells for missing values)."""
    return export.to_csv(index=False, date_format="%Y-%m-%d").encode("utf-8")


def to_parquet_bytes(export: pd.DataFrame) -> bytes:
    """The export as Parquet (pyarrow); dates as dates, ids and categories as text."""
    import io

    frame = export.copy()
    for f in FIELDS:
        if f.type == "date" and f.name in frame.columns:
            frame[f.name] = pd.to_datetime(frame[f.name]).dt.date
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False, engine="pyarrow")
    return buffer.getvalue()


_TYPE_WORDS = {
    "id": "text (keyed hash)",
    "integer": "integer",
    "number": "number",
    "date": "date (YYYY-MM-DD, shifted)",
    "text": "text",
    "yesno": "yes/no (1/0)",
    "category": "category",
}


def _choices_text(f: Field) -> str:
    return " | ".join(f"{code}, {label}" for code, label in f.choices)


def dictionary_frame(fields: Sequence[Field] = FIELDS) -> pd.DataFrame:
    """The data dictionary: one row per exported column."""
    return pd.DataFrame(
        [
            {
                "field": f.name,
                "label": f.label,
                "type": _TYPE_WORDS[f.type],
                "unit": f.unit,
                "allowed values": _choices_text(f)
                or (
                    ""
                    if f.minimum is None and f.maximum is None
                    else f"{'' if f.minimum is None else f'{f.minimum:g}'}"
                    f"–{'' if f.maximum is None else f'{f.maximum:g}'}"
                ),
                "description": f.description,
            }
            for f in fields
        ]
    )


def dictionary_markdown(fields: Sequence[Field] = FIELDS) -> str:
    """The data dictionary as a markdown document (with the de-identification rules)."""
    lines = [
        "# Anagen registry export: data dictionary",
        "",
        "One row per analysed trichoscopy image (a visit × target site).",
        "",
        "De-identification: no names, contacts, MRNs, dates of birth or free text; record ids",
        "are keyed hashes (HMAC-SHA256, per installation); every date of a patient is moved",
        "back by the same offset of 0-364 days (intervals within a patient are exact;",
        "days-since columns are not shifted); ages above 89 are given as 90.",
        "",
        "Investigational therapy; registry observations, not a controlled trial.",
        "",
        "| field | label | type | unit | allowed values | description |",
        "|---|---|---|---|---|---|",
    ]
    for row in dictionary_frame(fields).itertuples(index=False):
        cells = [str(c).replace("|", "\\|") for c in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


#: The 18 columns of a REDCap data dictionary, in REDCap's order.
REDCAP_COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
#: REDCap's instrument for the export.
REDCAP_FORM = "outcomes"


def _bound(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def redcap_dictionary(fields: Sequence[Field] = FIELDS) -> pd.DataFrame:
    """A REDCap data dictionary (the 18 standard columns), one row per exported field."""
    rows = []
    for f in fields:
        field_type, validation, choices = "text", "", ""
        if f.type == "integer":
            validation = "integer"
        elif f.type == "number":
            validation = "number"
        elif f.type == "date":
            validation = "date_ymd"
        elif f.type == "yesno":
            field_type = "yesno"
        elif f.type == "category":
            field_type, choices = "dropdown", _choices_text(f)
        note = " ".join(p for p in (f.unit, f.description if f.type == "integer" else "") if p)
        row = dict.fromkeys(REDCAP_COLUMNS, "")
        row.update(
            {
                "Variable / Field Name": f.name,
                "Form Name": REDCAP_FORM,
                "Section Header": f.section,
                "Field Type": field_type,
                "Field Label": f.label,
                "Choices, Calculations, OR Slider Labels": choices,
                "Field Note": note,
                "Text Validation Type OR Show Slider Number": validation,
                "Text Validation Min": _bound(f.minimum) if validation else "",
                "Text Validation Max": _bound(f.maximum) if validation else "",
                "Field Annotation": f.description if f.type != "integer" else "",
            }
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=list(REDCAP_COLUMNS))
