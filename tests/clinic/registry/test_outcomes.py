"""The outcome table follows the clinical records: rebuilt after each change commits, once
per patient per transaction, with the registry's terminal threshold and the clinician's
correction kept beside the automatic values."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.db import transaction

from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import services as imaging
from anagen.clinic.registry import receivers, services
from anagen.clinic.registry.models import OutcomeRecord, VisitReport
from anagen.clinic.registry.selectors import Cohort, outcome_frame
from anagen.evidence import summarize_change
from tests.clinic.conftest import make_user
from tests.clinic.imaging_helpers import imaging_world, phantom_png, upload

pytestmark = pytest.mark.django_db


def _follow_up(nurse, patient, world, taken_on: date, seed: int):
    visit = imaging.imaging_visit_create(actor=nurse, patient=patient, taken_on=taken_on)
    record = imaging.trichoscopy_upload(
        actor=nurse,
        visit=visit,
        target_site=world["site"],
        device=world["device"],
        image=upload("m.png", phantom_png(seed)),
    )
    return imaging.trichoscopy_analyse(record=record)


@pytest.fixture
def measured(staff, patient):
    nurse = staff[Role.NURSE]
    day0 = date.today() - timedelta(days=200)
    world = imaging_world(nurse, patient, taken_on=day0, seed=3)
    later = _follow_up(nurse, patient, world, day0 + timedelta(days=92), seed=4)
    return SimpleNamespace(nurse=nurse, world=world, later=later, base=world["trichoscopy"])


def test_rows_follow_analyses_with_days_windows_and_threshold(measured, patient, settings):
    m = measured
    assert services.outcomes_refresh(patient=patient) == 2
    rows = list(OutcomeRecord.objects.filter(patient=patient).order_by("visit_day"))
    assert [r.visit_day for r in rows] == [0, 92]
    assert [r.window_day for r in rows] == [None, 90]
    base = m.base
    hairs = [h for h in base.result["hairs"] if h["counted"]]
    terminal = sum(1 for h in hairs if h["diameter_um"] >= 30.0)
    assert rows[0].terminal_density_per_cm2 == pytest.approx(terminal / base.area_cm2)
    assert rows[0].density_per_cm2 == pytest.approx(len(hairs) / base.area_cm2)
    # A stricter registry threshold moves hairs from terminal to vellus, never loses one.
    settings.ANAGEN_TERMINAL_MIN_UM = 60.0
    services.outcomes_refresh(patient=patient)
    strict = OutcomeRecord.objects.get(image=base)
    assert strict.terminal_density_per_cm2 <= rows[0].terminal_density_per_cm2
    assert strict.terminal_density_per_cm2 + strict.vellus_density_per_cm2 == pytest.approx(
        rows[0].density_per_cm2
    )


def test_correction_is_kept_beside_the_automatic_value(measured, patient, physician):
    m = measured
    hair = next(h for h in m.later.result["hairs"] if h["counted"])
    imaging.trichoscopy_correct(
        actor=physician,
        record=m.later,
        removed_hair_ids=[hair["id"]],
        added_terminal=0,
        added_vellus=0,
        note="one artefact",
    )
    services.outcomes_refresh(patient=patient)
    row = OutcomeRecord.objects.get(image=m.later)
    assert row.corrected
    assert row.density_per_cm2 == pytest.approx(row.density_auto_per_cm2 - 1 / m.later.area_cm2)


@pytest.mark.django_db(transaction=True)
def test_refresh_runs_once_per_patient_after_commit_and_not_after_rollback(
    measured, patient, monkeypatch
):
    calls: list[int] = []
    monkeypatch.setattr(receivers, "_enqueue", calls.append)
    m = measured
    with transaction.atomic():
        m.later.save()
        m.later.save()
        m.base.save()
        assert calls == []  # not before the commit
    assert calls == [patient.pk]
    calls.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        m.later.save()
        raise RuntimeError
    assert calls == []
    with transaction.atomic():
        m.base.save()
    assert calls == [patient.pk]


def test_frame_is_scoped_to_the_users_sites_and_feeds_the_evidence_library(
    measured, patient, other_site
):
    m = measured
    services.outcomes_refresh(patient=patient)
    frame = outcome_frame(user=m.nurse)
    assert len(frame) == 2
    summary = summarize_change(frame, "density_per_cm2", windows=(90,))
    assert summary[0].n == 1
    stranger = make_user(Role.PHYSICIAN, other_site, email="elsewhere@example.org")
    assert outcome_frame(user=stranger).empty
    assert outcome_frame(user=m.nurse, cohort=Cohort(sex="other-than-any")).empty


def test_visit_report_refuses_out_of_range_scores_and_keeps_nothing(measured, patient, physician):
    from django.core.exceptions import ValidationError

    m = measured
    with pytest.raises(ValidationError):
        services.visit_report_record(
            actor=physician,  # the global assessment is a physician's
            visit=m.later.visit,
            pull_test_hairs=61,
            satisfaction=4,
            shedding=0,
            global_assessment=1,
        )
    assert not VisitReport.objects.filter(visit=m.later.visit).exists()
    saved = services.visit_report_record(
        actor=physician,  # the global assessment is a physician's
        visit=m.later.visit,
        pull_test_hairs=3,
        satisfaction=4,
        shedding=0,
        global_assessment=1,
    )
    services.outcomes_refresh(patient=patient)
    row = OutcomeRecord.objects.get(image=m.later)
    assert (row.pull_test_hairs, row.satisfaction, row.global_assessment) == (3, 4, 1)
    assert saved.history.count() == 1
