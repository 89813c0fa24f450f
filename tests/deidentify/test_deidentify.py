"""anagen.deidentify (pure): keyed hashes, per-patient date shifts, the dictionaries."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from anagen import deidentify as d

KEY = "k" * 32


def _table() -> pd.DataFrame:
    rows = []
    for pid in (1, 2, 3):
        for day in (0, 90):
            row = {f.source: None for f in d.FIELDS}
            row.update(
                patient_id=pid,
                visit_id=pid * 10 + day,
                image_id=pid * 100 + day,
                site_id=1,
                taken_on=date(2024, 1, pid) + pd.Timedelta(days=day),
                visit_day=day,
                density_per_cm2=100.0 + day,
                corrected=day > 0,
                age_years=93 if pid == 1 else 40,
                sex="male",
                zone="vertex",
            )
            rows.append(row)
    return pd.DataFrame(rows)


def test_hashes_are_keyed_stable_and_separate_id_spaces():
    assert d.keyed_hash(KEY, "patient", 7) == d.keyed_hash(KEY, "patient", 7)
    assert d.keyed_hash(KEY, "patient", 7) != d.keyed_hash(KEY, "visit", 7)
    assert d.keyed_hash(KEY, "patient", 7) != d.keyed_hash("j" * 32, "patient", 7)
    assert len(d.keyed_hash(KEY, "patient", 7)) == d.HASH_HEX_DIGITS
    with pytest.raises(d.DeidentificationError):
        d.keyed_hash("short", "patient", 7)


def test_offsets_cover_the_year_and_differ_between_patients():
    offsets = [d.date_offset_days(KEY, pid) for pid in range(2000)]
    assert min(offsets) >= 0 and max(offsets) <= 364
    assert len(set(offsets)) > 300  # spread over the year, not a constant


def test_deidentify_keeps_only_the_listed_fields():
    table = _table().assign(family_name="Smith", mrn="MRN-1", note="free text")
    out = d.deidentify(table, key=KEY)
    assert list(out.columns) == [f.name for f in d.FIELDS]
    assert "Smith" not in out.to_csv()
    assert out["age_years"].max() == d.AGE_CAP
    assert set(out["corrected"].dropna()) == {0, 1}
    by_patient = out.groupby("patient_hash")["taken_on_shifted"].apply(list)
    for dates in by_patient:
        assert (dates[1] - dates[0]).days == 90  # intervals exact


def test_missing_source_column_is_refused():
    with pytest.raises(d.DeidentificationError, match="taken_on"):
        d.deidentify(_table().drop(columns="taken_on"), key=KEY)


def test_dictionaries_describe_every_field():
    frame = d.dictionary_frame()
    assert list(frame["field"]) == [f.name for f in d.FIELDS]
    md = d.dictionary_markdown()
    assert all(f"| {f.name} |" in md for f in d.FIELDS)
    assert "not a controlled trial" in md
    redcap = d.redcap_dictionary()
    assert tuple(redcap.columns) == d.REDCAP_COLUMNS and len(redcap) == len(d.FIELDS)
    assert len({f.name for f in d.FIELDS}) == len(d.FIELDS)
