"""The de-identified export: no identifying byte leaves, ids hashed, dates shifted per patient,
dictionaries (REDCap) that describe exactly the exported columns; the page and the command."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from anagen import deidentify
from anagen.clinic.accounts.roles import Role
from anagen.clinic.registry.export import FILES, render
from anagen.clinic.registry.models import OutcomeRecord
from anagen.clinic.registry.selectors import export_frame
from anagen.clinic.treatment.models import AdverseEvent
from tests.clinic.conftest import make_user
from tests.clinic.registry.seed import seed_patient

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(site, staff):
    actor = staff[Role.NURSE]
    patients = [
        seed_patient(
            actor,
            site,
            n=i,
            densities={0: 100.0 + i, 30: 104.0 + i, 92: 110.0 + i},
            zones=("vertex", "frontal"),
            given=f"Xanthippe{i}",
            family=f"Grimsbothwick{i}",
            baseline_on=date(2024, 3, 1 + i),
            age=95 if i == 0 else 40,
        )
        for i in range(3)
    ]
    AdverseEvent.objects.create(
        patient=patients[0],
        type=AdverseEvent.Type.OTHER,
        site=AdverseEvent.Site.SYSTEMIC,
        grade=1,
        onset_on=date(2024, 3, 5),
        relatedness=AdverseEvent.Relatedness.UNLIKELY,
        reported_by=actor,
        description="Quokkafeather rash",
        action_taken="Ointment Zyxwvut",
    )
    return patients


def _identifiers(patients) -> list[str]:
    out = []
    for p in patients:
        out += [p.given_name, p.family_name, p.mrn, p.phone, p.email, p.address]
        out += [p.date_of_birth.isoformat(), p.date_of_birth.strftime("%d/%m/%Y")]
    out += ["Quokkafeather", "Zyxwvut", "Marigold", "Lindenfold", "registry-seed"]
    return [x for x in out if x]


def test_no_identifier_appears_in_any_exported_byte(seeded, client, site, tmp_path, settings):
    researcher = make_user(Role.RESEARCHER, site, email="res@example.test")
    client.force_login(researcher)
    blobs = {}
    for kind in FILES:
        response = client.get(reverse("registry:export_file", args=[kind]))
        assert response.status_code == 200, kind
        assert response["Content-Disposition"].startswith("attachment;")
        blobs[kind] = response.content
    call_command("export_registry", str(tmp_path), stdout=io.StringIO())
    for path in tmp_path.iterdir():
        blobs[f"command:{path.name}"] = path.read_bytes()
    needles = _identifiers(seeded)
    for kind, blob in blobs.items():
        low = blob.lower()
        for needle in needles:
            assert needle.lower().encode() not in low, (kind, needle)
    table = pd.read_csv(io.BytesIO(blobs["csv"]))
    # No row carries its real visit date (every patient's offset here is not 0).
    key = settings.ANAGEN_EXPORT_KEY
    real = {
        deidentify.keyed_hash(key, "image", image): taken
        for image, taken in OutcomeRecord.objects.values_list("image_id", "taken_on")
    }
    assert all(deidentify.date_offset_days(key, p.pk) > 0 for p in seeded)
    for record, shifted in zip(table["record_id"], table["taken_on_shifted"], strict=True):
        assert shifted != real[record].isoformat()
    assert len(table) == 3 * 3 * 2
    raw_ids = {str(p.pk) for p in seeded}
    assert not raw_ids & set(table["patient_hash"].astype(str))
    assert table["age_years"].max() == deidentify.AGE_CAP  # 95 → 90
    parquet = pd.read_parquet(io.BytesIO(blobs["parquet"]))
    assert list(parquet.columns) == list(table.columns)
    assert len(parquet) == len(table)


def test_dates_move_by_one_stable_offset_per_patient(seeded, settings):
    frame = export_frame(user=None)
    first = deidentify.deidentify(frame, key=settings.ANAGEN_EXPORT_KEY)
    again = deidentify.deidentify(export_frame(user=None), key=settings.ANAGEN_EXPORT_KEY)
    pd.testing.assert_frame_equal(first, again)  # stable across exports
    offsets = {}
    for (pid, taken), shifted in zip(
        zip(frame["patient_id"], frame["taken_on"], strict=True),
        first["taken_on_shifted"],
        strict=True,
    ):
        offsets.setdefault(pid, set()).add((taken - shifted).days)
    assert all(len(days) == 1 for days in offsets.values())  # one offset per patient
    values = [next(iter(d)) for d in offsets.values()]
    assert all(0 <= v <= 364 for v in values)
    assert len(set(values)) == len(values)  # differ between these patients
    assert list(first["visit_day"]) == list(frame["visit_day"])  # days since baseline exact
    # Another installation's key: other hashes, other offsets.
    other = deidentify.deidentify(frame, key="another-installation-key-0123456789")
    assert not set(other["patient_hash"]) & set(first["patient_hash"])
    assert list(other["taken_on_shifted"]) != list(first["taken_on_shifted"])


def test_redcap_dictionary_has_the_18_columns_and_one_row_per_field(seeded, client, site):
    researcher = make_user(Role.RESEARCHER, site, email="res2@example.test")
    client.force_login(researcher)
    redcap = pd.read_csv(
        io.BytesIO(client.get(reverse("registry:export_file", args=["redcap"])).content),
        dtype=str,
        keep_default_na=False,
    )
    data = pd.read_csv(
        io.BytesIO(client.get(reverse("registry:export_file", args=["csv"])).content)
    )
    assert list(redcap.columns) == list(deidentify.REDCAP_COLUMNS)
    assert len(redcap.columns) == 18
    assert list(redcap["Variable / Field Name"]) == list(data.columns)
    assert redcap["Variable / Field Name"].iloc[0] == "record_id"
    assert redcap["Variable / Field Name"].str.fullmatch(r"[a-z][a-z0-9_]{0,25}").all()
    assert set(redcap["Field Type"]) <= {"text", "yesno", "dropdown"}
    assert set(redcap["Text Validation Type OR Show Slider Number"]) <= {
        "",
        "integer",
        "number",
        "date_ymd",
    }
    assert (redcap["Form Name"] == "outcomes").all()
    assert (redcap["Identifier?"] == "").all()
    # Values fit their REDCap definition: yes/no as 1/0, dropdown codes among the choices.
    for row in redcap.itertuples(index=False):
        name, field_type, choices = row[0], row[3], row[5]
        column = data[name].dropna()
        if field_type == "yesno":
            assert set(column.astype(int)) <= {0, 1}, name
        if field_type == "dropdown":
            codes = {c.split(",")[0].strip() for c in choices.split("|")}
            assert set(column.astype(str)) <= codes, name
    dictionary = client.get(reverse("registry:export_file", args=["dictionary-csv"])).content
    assert list(pd.read_csv(io.BytesIO(dictionary))["field"]) == list(data.columns)


def test_export_is_scoped_and_for_researchers_only(seeded, client, site, other_site, staff):
    far = make_user(Role.RESEARCHER, other_site, email="far-res@example.test")
    client.force_login(far)
    csv = client.get(reverse("registry:export_file", args=["csv"])).content
    assert len(pd.read_csv(io.BytesIO(csv))) == 0
    for role in (Role.PHYSICIAN, Role.AUDITOR, Role.NURSE):
        client.force_login(staff[role])
        assert client.get(reverse("registry:export_file", args=["csv"])).status_code == 403
        assert client.get(reverse("registry:export")).status_code == 403
    here = make_user(Role.RESEARCHER, site, email="here-res@example.test")
    client.force_login(here)
    assert client.get(reverse("registry:export_file", args=["passwords"])).status_code == 404
    assert (
        client.get(
            reverse("registry:export_file", args=["csv"]), {"site": other_site.pk}
        ).status_code
        == 404
    )
    page = client.get(reverse("registry:export"), {"sex": "female"}).content.decode()
    assert "18 rows selected" in page
    # The researcher sees no chart.
    patient = seeded[0]
    assert client.get(reverse("patients:chart", args=[patient.pk])).status_code == 403
    assert client.get(reverse("registry:expect", args=[patient.pk])).status_code == 403


@override_settings(ANAGEN_EXPORT_KEY="")
def test_no_export_without_a_key(seeded):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        render("csv", export_frame(user=None))
    # The dictionaries hold no data and need no key.
    assert render("redcap", export_frame(user=None)).startswith(b"Variable / Field Name")
