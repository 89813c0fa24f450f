"""The tidy outcome table: one row per patient and visit.

Columns
-------
``patient_id``
    Any hashable identifier (read as text from CSV).
``visit_day``
    Days since the patient's baseline; the baseline is the patient's visit at day 0.
    Whole or fractional days; negative days (screening visits) are allowed and ignored by
    the change-from-baseline statistics.
measure column (e.g. ``density_per_cm2``)
    Numeric. An empty cell means the measure was not taken at that visit: the row is not a
    measurement of it (the visit then neither serves as baseline nor counts for a window).
covariates (optional)
    ``age``, ``sex``, ``stage``, ``protocol``, ``cell_dose``, ``prp`` or any other column.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from anagen.evidence.errors import OutcomeTableError

PATIENT = "patient_id"
DAY = "visit_day"
#: the measure the command line summarises when none is named
DEFAULT_MEASURE = "density_per_cm2"


def read_outcomes_csv(path: str | Path) -> pd.DataFrame:
    """Read a tidy outcome CSV (``patient_id`` is kept as text).

    Parameters
    ----------
    path
        The CSV file.

    Returns
    -------
    pandas.DataFrame
        The table as read; call :func:`validate_outcomes` before analysing it.

    Raises
    ------
    OutcomeTableError
        If the file cannot be read or parsed as CSV.
    """
    try:
        return pd.read_csv(path, dtype={PATIENT: str})
    except FileNotFoundError:
        raise OutcomeTableError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise OutcomeTableError(f"{path}: is a directory, not a CSV file") from None
    except pd.errors.EmptyDataError:
        raise OutcomeTableError(f"{path}: empty file (no header row)") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        detail = " ".join(str(exc).split())
        raise OutcomeTableError(f"{path}: not a readable CSV file ({detail})") from None


def _numeric(table: pd.DataFrame, column: str) -> pd.Series:
    """The column as floats; text that is not a number is an error naming the first row."""
    raw = table[column]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bool(bad.any()):
        row = int(bad.to_numpy().nonzero()[0][0])
        raise OutcomeTableError(
            f"column {column!r}: non-numeric value {raw.iloc[row]!r} in data row {row + 1}"
        )
    infinite = values.abs() == float("inf")
    if bool(infinite.any()):
        row = int(infinite.to_numpy().nonzero()[0][0])
        raise OutcomeTableError(f"column {column!r}: infinite value in data row {row + 1}")
    return values.astype(float)


def validate_outcomes(
    table: pd.DataFrame, measure: str, *, extra_columns: Sequence[str] = ()
) -> pd.DataFrame:
    """Check a tidy outcome table and return a clean copy.

    Parameters
    ----------
    table
        Rows of ``patient_id``, ``visit_day``, the measure and any covariates.
    measure
        The measure column to analyse.
    extra_columns
        Further columns that must be present (e.g. a group-by column).

    Returns
    -------
    pandas.DataFrame
        A copy with ``visit_day`` and the measure as floats, ``patient_id`` as text (whole-number
        ids, as a database gives them, stay whole numbers), rows
        without the measure removed, sorted by patient and day.

    Raises
    ------
    OutcomeTableError
        On a missing column, a non-numeric or missing ``visit_day``, a non-numeric measure,
        a missing ``patient_id``, two measured rows for the same patient and day, or a table
        in which no patient has a measured baseline (day 0).
    """
    required = [PATIENT, DAY, measure, *extra_columns]
    missing = [c for c in dict.fromkeys(required) if c not in table.columns]
    if missing:
        raise OutcomeTableError(f"missing column(s): {', '.join(missing)}")
    out = table.copy()
    if bool(out[PATIENT].isna().any()):
        row = int(out[PATIENT].isna().to_numpy().nonzero()[0][0])
        raise OutcomeTableError(f"column {PATIENT!r}: empty in data row {row + 1}")
    if not pd.api.types.is_integer_dtype(out[PATIENT]):
        out[PATIENT] = out[PATIENT].astype(str)
    out[DAY] = _numeric(out, DAY)
    if bool(out[DAY].isna().any()):
        row = int(out[DAY].isna().to_numpy().nonzero()[0][0])
        raise OutcomeTableError(f"column {DAY!r}: empty in data row {row + 1}")
    out[measure] = _numeric(out, measure)
    out = out[out[measure].notna()]
    dup = out.duplicated([PATIENT, DAY], keep=False)
    if bool(dup.any()):
        first = out[dup].iloc[0]
        raise OutcomeTableError(
            f"patient {first[PATIENT]!r} has more than one {measure!r} value at day "
            f"{first[DAY]:g}; keep one row per patient and visit"
        )
    if not bool((out[DAY] == 0).any()):
        raise OutcomeTableError(f"no baseline: no patient has a {measure!r} value at visit_day 0")
    return out.sort_values([PATIENT, DAY], kind="stable").reset_index(drop=True)


def baselines(table: pd.DataFrame, measure: str) -> pd.Series:
    """Each patient's baseline value (the visit at day 0), indexed by ``patient_id``.

    Parameters
    ----------
    table
        A validated outcome table (see :func:`validate_outcomes`).
    measure
        The measure column.

    Returns
    -------
    pandas.Series
        Baseline values; patients without a day-0 measurement are absent.
    """
    base = table.loc[table[DAY] == 0, [PATIENT, measure]]
    return base.set_index(PATIENT)[measure]
