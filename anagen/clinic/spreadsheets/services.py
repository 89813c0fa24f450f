"""Import of legacy spreadsheets (CSV or XLSX, read by tablib): patient lists and measurement
tables (assessments: pattern, stages, laboratory results by MRN and date).

The file's columns are matched to Anagen's fields by their usual names (``KINDS``: "First
name", "DOB", "Ferritin (µg/L)" …) or by an explicit mapping (``{"Nachname": "family_name"}``).
Every row is read and checked, then written through the clinic's services
(``patients.services.patient_create``, ``assessment.services.assessment_record``), so their
rules hold. ``table_import_plan`` does all of it inside a transaction that is rolled back and
reports what would happen; ``table_import_apply`` writes every row or, at any problem, none.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

import tablib
from django.core.exceptions import ValidationError
from django.utils import timezone

from anagen.clinic.accounts.access import require_site_access
from anagen.clinic.accounts.models import Site, User
from anagen.clinic.accounts.policy import Perm, require
from anagen.clinic.assessment.services import assessment_record
from anagen.clinic.common.imports import (
    Problem,
    refused_message,
    service_refusals,
    write_all_or_nothing,
)
from anagen.clinic.patients.models import Sex
from anagen.clinic.patients.selectors import patients_visible_to
from anagen.clinic.patients.services import patient_create

from .error_codes import TableErrorCode as Code

MAX_ROWS = 5000


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    aliases: tuple[str, ...]
    required: bool = False


PATIENT_COLUMNS = (
    Column("given_name", "Given name", ("given name", "first name", "forename", "given"), True),
    Column("family_name", "Family name", ("family name", "last name", "surname", "family"), True),
    Column("date_of_birth", "Date of birth", ("date of birth", "dob", "birth date", "born"), True),
    Column("sex", "Sex", ("sex", "gender"), True),
    Column("phone", "Phone", ("phone", "telephone", "mobile", "phone number"), False),
    Column("email", "E-mail", ("email", "e-mail", "e-mail address", "email address"), False),
    Column("address", "Address", ("address", "postal address"), False),
)
MEASUREMENT_COLUMNS = (
    Column("mrn", "MRN", ("mrn", "medical record number", "patient id"), True),
    Column("assessed_on", "Date", ("date", "assessed on", "visit date", "assessment date"), True),
    Column(
        "pattern", "Hair-loss pattern", ("pattern", "hair loss pattern", "hair-loss pattern"), True
    ),
    Column(
        "norwood", "Norwood-Hamilton", ("norwood", "norwood-hamilton", "norwood hamilton"), False
    ),
    Column("ludwig", "Ludwig", ("ludwig",), False),
    Column("sinclair", "Sinclair", ("sinclair",), False),
    Column("savin", "Savin", ("savin",), False),
    Column("onset_age_years", "Age at onset", ("age at onset", "onset age", "onset"), False),
    Column("ferritin", "Ferritin (µg/L)", ("ferritin", "ferritin (µg/l)", "ferritin ug/l"), False),
    Column("tsh", "TSH (mIU/L)", ("tsh", "tsh (miu/l)"), False),
    Column(
        "vitamin_d",
        "25-OH vitamin D (nmol/L)",
        ("vitamin d", "25-oh vitamin d", "25-oh vitamin d (nmol/l)", "vit d"),
        False,
    ),
    Column("haemoglobin", "Haemoglobin (g/dL)", ("haemoglobin", "hemoglobin", "hb"), False),
)
KINDS: dict[str, tuple[Column, ...]] = {
    "patients": PATIENT_COLUMNS,
    "measurements": MEASUREMENT_COLUMNS,
}
KIND_LABELS = {"patients": "Patient list", "measurements": "Measurement table (assessments)"}


@dataclass
class PlannedRow:
    row: int
    fields: dict[str, Any]
    result: str = ""  # what was (or would be) done, in the clinic's words
    complete: bool = True  # every cell read; a row with a bad cell is not offered to a service


@dataclass
class TableReport:
    kind: str
    dry_run: bool
    mapping: dict[str, str] = field(default_factory=dict)  # file column → field
    ignored_columns: list[str] = field(default_factory=list)
    rows: list[PlannedRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "mapping": self.mapping,
            "ignored_columns": self.ignored_columns,
            "rows": [{"row": r.row, "result": r.result} for r in self.rows],
            "problems": [p.as_dict() for p in self.problems],
        }


class TableRefused(ValidationError):
    """Nothing was imported; ``report`` lists every problem."""

    def __init__(self, report: TableReport):
        self.report = report
        super().__init__(
            refused_message("Nothing was imported", report.problems),
            code=report.problems[0].code,
        )


# --- reading ------------------------------------------------------------------------------


def _norm(header: object) -> str:
    return " ".join(str(header or "").replace("_", " ").split()).casefold()


def table_load(data: bytes, filename: str) -> tuple[tablib.Dataset | None, Problem | None]:
    """The file as a tablib Dataset (CSV, UTF-8 or UTF-8 with BOM; or XLSX, first sheet)."""
    name = filename.lower()
    try:
        if name.endswith(".xlsx"):
            dataset = tablib.Dataset().load(io.BytesIO(data), format="xlsx")
        elif name.endswith(".csv"):
            text = data.decode("utf-8-sig")
            dataset = tablib.Dataset().load(text, format="csv")
        else:
            return None, Problem("file", "Give a .csv or .xlsx file.", Code.UNKNOWN_FORMAT)
    except UnicodeDecodeError:
        return None, Problem(
            "file", "The CSV file is not UTF-8 text: save it as CSV UTF-8.", Code.UNREADABLE
        )
    except Exception:  # tablib/openpyxl raise many kinds for a damaged file
        return None, Problem("file", "The file cannot be read as a table.", Code.UNREADABLE)
    if not dataset.headers or dataset.height == 0:
        return None, Problem("file", "The table has no rows under its header.", Code.EMPTY)
    if dataset.height > MAX_ROWS:
        return None, Problem("file", f"More than {MAX_ROWS} rows: split the file.", Code.TOO_LARGE)
    return dataset, None


def column_mapping(
    headers: list[str], kind: str, overrides: dict[str, str] | None = None
) -> tuple[dict[str, str], list[str], list[Problem]]:
    """Which file column feeds which field: ``overrides`` first (file column → field), then
    the usual names. Returns the mapping, the ignored columns and the problems."""
    columns = KINDS[kind]
    # A target is a field by its label ("Family name") or its name ("family_name").
    fields = {_norm(c.field): c.field for c in columns} | {_norm(c.label): c.field for c in columns}
    problems: list[Problem] = []
    mapping: dict[str, str] = {}
    by_norm = {_norm(h): h for h in headers if h is not None}
    for source, target in (overrides or {}).items():
        if _norm(source) not in by_norm:
            problems.append(
                Problem("mapping", f"The file has no column “{source}”.", Code.BAD_MAPPING)
            )
        elif _norm(target) not in fields:
            known = ", ".join(c.label for c in columns)
            problems.append(
                Problem(
                    "mapping",
                    f"“{target}” is not a column of this table (one of: {known}).",
                    Code.BAD_MAPPING,
                )
            )
        else:
            mapping[by_norm[_norm(source)]] = fields[_norm(target)]
    for header in headers:
        if header is None or header in mapping:
            continue
        for column in columns:
            if column.field in mapping.values():
                continue
            if _norm(header) in (*column.aliases, _norm(column.field), _norm(column.label)):
                mapping[header] = column.field
                break
    for column in columns:
        if column.required and column.field not in mapping.values():
            problems.append(
                Problem(
                    "header",
                    f"No column for {column.label}: name one so, or give which column holds it.",
                    Code.MISSING_COLUMN,
                )
            )
    ignored = [str(h) for h in headers if h is not None and h not in mapping]
    return mapping, ignored, problems


def _date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError("Write the date as YYYY-MM-DD or DD/MM/YYYY.")


def _sex(value: object) -> str:
    text = str(value).strip().casefold()
    if text in ("f", "female", "woman", "w"):
        return str(Sex.FEMALE)
    if text in ("m", "male", "man"):
        return str(Sex.MALE)
    if text in ("o", "other", "x", "not stated", "unknown", "u"):
        return str(Sex.OTHER)
    raise ValueError("Write female, male or other (F, M or O).")


def _decimal(value: object) -> Decimal:
    text = str(value).strip().replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError("Write a number (a decimal point or comma, no unit).") from None
    if not number.is_finite():
        raise ValueError("Write a number.")
    return number


def _whole(value: object) -> int:
    number = _decimal(value)
    if number != number.to_integral_value():
        raise ValueError("Write a whole number.")
    return int(number)


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet's 3.0 for the stage "3"
    return str(value).strip()


_PARSERS: dict[str, Callable[[object], Any]] = {
    "date_of_birth": _date,
    "assessed_on": _date,
    "sex": _sex,
    "ferritin": _decimal,
    "tsh": _decimal,
    "vitamin_d": _decimal,
    "haemoglobin": _decimal,
    "onset_age_years": _whole,
    "sinclair": _whole,
}


def _rows(dataset: tablib.Dataset, kind: str, mapping: dict[str, str], report: TableReport) -> None:
    labels = {c.field: c.label for c in KINDS[kind]}
    required = {c.field for c in KINDS[kind] if c.required}
    headers = list(dataset.headers)
    for index, values in enumerate(dataset, start=2):
        fields: dict[str, Any] = {}
        cells = dict(zip(headers, values, strict=False))
        if all(v in (None, "") for v in cells.values()):
            continue  # a blank line
        before = len(report.problems)
        for header, target in mapping.items():
            value = cells.get(header)
            if value is None or (isinstance(value, str) and not value.strip()):
                if target in required:
                    report.problems.append(
                        Problem(f"row {index}, {labels[target]}", "Empty.", Code.BAD_VALUE)
                    )
                continue
            try:
                fields[target] = _PARSERS.get(target, _text)(value)
            except ValueError as exc:
                report.problems.append(
                    Problem(f"row {index}, {labels[target]}", str(exc), Code.BAD_VALUE)
                )
        report.rows.append(PlannedRow(index, fields, complete=len(report.problems) == before))


# --- writing through the services ---------------------------------------------------------


def _write(*, actor: User, site: Site, report: TableReport) -> None:
    labels = {c.field: c.label for c in KINDS[report.kind]}
    rows = [row for row in report.rows if row.complete]
    if report.kind == "patients":
        for row in rows:
            try:
                patient = patient_create(actor=actor, site=site, **row.fields)
            except ValidationError as exc:
                report.problems.extend(
                    service_refusals(
                        f"row {row.row}", exc, at_field="{where}, {name}", names=labels
                    )
                )
                continue
            row.result = f"Register {patient.full_name} as {patient.mrn}"
        return
    visible = patients_visible_to(user=actor)
    for row in rows:
        fields = dict(row.fields)
        mrn = str(fields.pop("mrn")).strip()
        found = visible.filter(mrn=mrn).first()
        if found is None:
            report.problems.append(
                Problem(
                    f"row {row.row}, MRN",
                    "No patient with this MRN at your sites.",
                    Code.UNKNOWN_PATIENT,
                )
            )
            continue
        patient = found
        day: date = fields.pop("assessed_on")
        moment = timezone.make_aware(datetime.combine(day, time(12, 0)))
        try:
            assessment_record(
                actor=actor,
                patient=patient,
                assessed_at=moment,
                notes=f"Imported from a spreadsheet (row {row.row}).",
                **fields,
            )
        except ValidationError as exc:
            report.problems.extend(
                service_refusals(f"row {row.row}", exc, at_field="{where}, {name}", names=labels)
            )
            continue
        row.result = f"Assessment of {patient.mrn} on {day:%d %b %Y}"


def _run(
    *,
    actor: User,
    site: Site,
    kind: str,
    data: bytes,
    filename: str,
    mapping: dict[str, str] | None,
    dry_run: bool,
) -> TableReport:
    require(actor, Perm.SPREADSHEET_IMPORT)
    require_site_access(user=actor, site_id=site.pk)
    if kind not in KINDS:
        raise ValueError(f"unknown table kind {kind!r}")
    report = TableReport(kind=kind, dry_run=dry_run)
    dataset, problem = table_load(data, filename)
    if dataset is None:
        assert problem is not None
        report.problems.append(problem)
        return report
    headers = [str(h) if h is not None else None for h in dataset.headers]
    dataset.headers = headers
    report.mapping, report.ignored_columns, problems = column_mapping(
        [h for h in headers if h is not None], kind, mapping
    )
    report.problems.extend(problems)
    if problems:
        return report
    _rows(dataset, kind, report.mapping, report)
    # The rows read cleanly go through the services even when others have bad cells (rolled
    # back), so one check reports every problem of the file, row by row.
    write_all_or_nothing(lambda: _write(actor=actor, site=site, report=report), report)
    if report.problems:  # rolled back: no row's "what was done" holds
        for row in report.rows:
            row.result = ""
    report.problems.sort(key=_row_order)
    return report


def _row_order(problem: Problem) -> int:
    number = problem.location.removeprefix("row ").split(",")[0]
    return int(number) if number.isdigit() else 0


def table_import_plan(
    *,
    actor: User,
    site: Site,
    kind: str,
    data: bytes,
    filename: str,
    mapping: dict[str, str] | None = None,
) -> TableReport:
    """What importing the table would do, every service rule checked; nothing is kept."""
    return _run(
        actor=actor,
        site=site,
        kind=kind,
        data=data,
        filename=filename,
        mapping=mapping,
        dry_run=True,
    )


def table_import_apply(
    *,
    actor: User,
    site: Site,
    kind: str,
    data: bytes,
    filename: str,
    mapping: dict[str, str] | None = None,
) -> TableReport:
    """Import every row, or (raising ``TableRefused``) none."""
    report = _run(
        actor=actor,
        site=site,
        kind=kind,
        data=data,
        filename=filename,
        mapping=mapping,
        dry_run=False,
    )
    if not report.ok:
        raise TableRefused(report)
    return report


def parse_mapping(text: str) -> dict[str, str]:
    """``"Nachname = Family name"`` lines (a form's text box) as a mapping; blank lines skipped."""
    mapping: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        source, sep, target = line.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise ValueError(f"“{line.strip()[:80]}”: write Column in the file = field.")
        mapping[source.strip()] = target.strip()
    return mapping
