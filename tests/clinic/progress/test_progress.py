"""The progress page reads a stored forecast: computed by a job when a measurement changes,
never per request; an outdated one is shown as updating and queued once. The before/after
comparison and the patient report PDF."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from anagen import follicles
from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import services as imaging
from anagen.clinic.progress import forecast as progress_forecast
from anagen.clinic.progress import selectors, services, views
from anagen.clinic.progress.models import ProgressSnapshot
from anagen.clinic.registry.models import OutcomeRecord
from anagen.clinic.registry.services import outcomes_refresh, visit_report_record
from tests.clinic.conftest import make_user
from tests.clinic.documents import laid_out_text
from tests.clinic.imaging_helpers import imaging_world, phantom_png, upload
from tests.clinic.treatment_helpers import (
    administer,
    consented_plan,
    make_candidate,
    released_product,
)

pytestmark = pytest.mark.django_db

UPDATING = "being updated"


def _follow_up(nurse, patient, world, taken_on: date, seed: int, *, view: str | None = "top"):
    visit = imaging.imaging_visit_create(actor=nurse, patient=patient, taken_on=taken_on)
    if view:
        imaging.photo_upload(
            actor=nurse, visit=visit, view=view, image=upload("p.png", phantom_png(seed))
        )
    record = imaging.trichoscopy_upload(
        actor=nurse,
        visit=visit,
        target_site=world["site"],
        device=world["device"],
        image=upload("m.png", phantom_png(seed)),
    )
    return imaging.trichoscopy_analyse(record=record)


def _jobs(patient):
    """What the workers do after the commits: the outcome rows, then the snapshots."""
    outcomes_refresh(patient=patient)
    return services.snapshots_refresh(patient=patient)


@pytest.fixture
def measured(staff, patient):
    nurse = staff[Role.NURSE]
    day0 = date.today() - timedelta(days=95)
    world = imaging_world(nurse, patient, taken_on=day0, seed=3)
    later = _follow_up(nurse, patient, world, day0 + timedelta(days=92), seed=4)
    return {**world, "later": later, "nurse": nurse}


def _page(client, user, patient):
    client.force_login(user)
    response = client.get(reverse("progress:patient", args=[patient.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_page_and_plot_read_the_stored_snapshot_without_running_the_model(
    client, staff, patient, measured, monkeypatch
):
    assert _jobs(patient) == 1
    snapshot = ProgressSnapshot.objects.get(target_site=measured["site"])
    assert snapshot.forecast is not None and bytes(snapshot.plot_png).startswith(b"\x89PNG")

    def boom(*args, **kwargs):
        raise AssertionError("the model ran during a request")

    monkeypatch.setattr(follicles, "forecast", boom)
    monkeypatch.setattr(follicles, "calibrate", boom)
    monkeypatch.setattr(progress_forecast, "progress_png", boom)
    page = _page(client, staff[Role.PHYSICIAN], patient)
    assert "Model forecast, not a promise" in page and UPDATING not in page
    assert reverse("progress:plot", args=[patient.pk, measured["site"].pk]) in page
    plot = client.get(reverse("progress:plot", args=[patient.pk, measured["site"].pk]))
    assert plot.status_code == 200 and plot.content == bytes(snapshot.plot_png)
    # Measured values from the outcome table: terminal at the registry's 30 µm threshold.
    row = OutcomeRecord.objects.get(image=measured["later"])
    assert f"{row.terminal_density_per_cm2:.1f}" in page and "day 90" in page


def test_forecast_diameter_starts_from_the_patients_baseline_diameter(patient, measured):
    _jobs(patient)
    forecast = ProgressSnapshot.objects.get(target_site=measured["site"]).forecast
    baseline = OutcomeRecord.objects.get(visit_day=0, patient=patient).mean_diameter_um
    start = forecast["scenarios"]["no_further_sessions"]["mean_diameter_um"]["median"][0]
    assert abs(start - baseline) < 4.0, (start, baseline)
    assert forecast["calibration"]["terminal_diameter_um"] is not None


@pytest.fixture
def counted(monkeypatch):
    """Count the model runs (a cheap stand-in keeps the test fast)."""
    runs: list[int] = []

    def fake(inputs):
        if inputs.points:  # with nothing measured there is no model to run
            runs.append(inputs.site_id)
        return None

    monkeypatch.setattr(progress_forecast, "site_forecast", fake)
    return runs


@pytest.mark.django_db(transaction=True)
def test_snapshot_follows_analysis_correction_and_session_and_nothing_else(staff, patient, counted):
    nurse, physician = staff[Role.NURSE], staff[Role.PHYSICIAN]
    day0 = date.today() - timedelta(days=40)
    world = imaging_world(nurse, patient, taken_on=day0, seed=3)
    assert len(counted) == 1  # the analysis, through the outcome table, once
    site = world["site"]
    snapshot = ProgressSnapshot.objects.get(target_site=site)
    assert snapshot.fingerprint == selectors.forecast_inputs(target_site=site).fingerprint

    # Not otherwise: a visit report or a re-save rebuilds the outcome rows, not the forecast.
    visit_report_record(
        actor=nurse,
        visit=world["visit"],
        pull_test_hairs=2,
        satisfaction=4,
        shedding=0,
        global_assessment=None,
    )
    world["trichoscopy"].save()
    assert len(counted) == 1

    later = _follow_up(nurse, patient, world, day0 + timedelta(days=30), seed=5)
    assert len(counted) == 2  # a new analysis

    hair = next(h for h in later.result["hairs"] if h["counted"])
    imaging.trichoscopy_correct(
        actor=physician,
        record=later,
        removed_hair_ids=[hair["id"]],
        added_terminal=0,
        added_vellus=0,
        note="artefact",
    )
    assert len(counted) == 3  # a correction

    make_candidate(physician, patient)
    assert len(counted) == 4  # the assessment: years since the hair loss began
    plan = consented_plan(physician, nurse, patient)
    assert len(counted) == 5  # the plan's remaining sessions: a further-sessions scenario
    product = released_product(physician, staff[Role.LAB_TECHNICIAN], plan)
    assert len(counted) == 5  # the laboratory's work changes no input
    administer(physician, nurse, plan, product)
    assert len(counted) == 6  # a session given
    assert selectors.forecast_inputs(target_site=site).session_days == (40,)


def test_outdated_snapshot_shows_measurements_as_updating_and_is_queued_once(
    client, staff, patient, measured, monkeypatch, counted
):
    _jobs(patient)
    queued: list[int] = []
    monkeypatch.setattr(
        services, "snapshots_refresh_later", lambda *, patient_id: queued.append(patient_id)
    )
    ProgressSnapshot.objects.update(fingerprint="computed-from-older-inputs")
    physician = staff[Role.PHYSICIAN]
    for user in (physician, staff[Role.NURSE], physician):
        page = _page(client, user, patient)
        assert (
            UPDATING in page
            and reverse("progress:plot", args=[patient.pk, measured["site"].pk]) not in page
        )
        row = OutcomeRecord.objects.get(image=measured["later"])
        assert f"{row.density_per_cm2:.1f}" in page  # the measured values, at once
    assert queued == [patient.pk]  # once, not per request
    # A request whose job was lost is made again after a while.
    ProgressSnapshot.objects.update(requested_at=timezone.now() - timedelta(hours=1))
    _page(client, physician, patient)
    assert queued == [patient.pk, patient.pk]


def test_a_new_model_version_makes_every_snapshot_outdated(
    client, staff, patient, measured, monkeypatch, counted
):
    _jobs(patient)
    assert UPDATING not in _page(client, staff[Role.PHYSICIAN], patient)
    monkeypatch.setattr(selectors, "MODEL_VERSION", "follicles-forecast/next")
    monkeypatch.setattr(services, "snapshots_refresh_later", lambda *, patient_id: None)
    assert UPDATING in _page(client, staff[Role.PHYSICIAN], patient)
    assert services.snapshots_refresh(patient=patient) == 1
    assert services.snapshots_refresh(patient=patient) == 0  # current again: nothing to do


def test_compare_shows_the_same_view_at_baseline_and_the_chosen_visit(
    client, staff, patient, measured
):
    nurse = measured["nurse"]
    other_view = imaging.imaging_visit_create(
        actor=nurse, patient=patient, taken_on=date.today() - timedelta(days=1)
    )
    imaging.photo_upload(
        actor=nurse, visit=other_view, view="front", image=upload("f.png", phantom_png(8))
    )
    before, after = measured["photo"], measured["later"].visit.photos.get(view="top")
    client.force_login(staff[Role.AUDITOR])
    url = reverse("progress:compare", args=[patient.pk])
    page = client.get(url, {"view": "top", "visit": after.visit_id}).content.decode()
    for photo in (before, after):
        assert reverse("imaging:photo_file", args=[photo.pk]) in page
    assert reverse("imaging:photo_file", args=[measured["photo"].pk + 1000]) not in page
    assert 'type="range"' in page and '<label for="reveal-' in page and "compare.js" in page
    # The progress page shows the same pair and every photo.
    progress = _page(client, staff[Role.AUDITOR], patient)
    assert 'type="range"' in progress
    assert reverse("imaging:photo_file", args=[other_view.photos.get().pk]) in progress
    # A visit without that view shows no pair (never another view's photo).
    missing = client.get(url, {"view": "top", "visit": other_view.pk}).content.decode()
    assert "no photo of that view at that visit" in missing and 'type="range"' not in missing
    assert client.get(url, {"view": "ceiling"}).status_code == 404
    assert client.get(url, {"visit": "1 OR 1=1"}).status_code == 404


def test_compare_refuses_another_patients_and_another_sites_photos(
    client, staff, patient, measured, other_site, coordinator
):
    from anagen.clinic.patients.services import patient_create

    stranger = make_user(Role.NURSE, other_site, email="nurse@man.example")
    elsewhere = patient_create(
        actor=make_user(Role.COORDINATOR, other_site, email="c@man.example"),
        site=other_site,
        given_name="Bo",
        family_name="Elsewhere",
        date_of_birth=date(1980, 1, 1),
        sex="male",
        phone="+44 161 496 0000",
    )
    theirs = imaging_world(stranger, elsewhere, seed=6)
    client.force_login(staff[Role.PHYSICIAN])
    url = reverse("progress:compare", args=[patient.pk])
    assert client.get(url, {"view": "top", "visit": theirs["visit"].pk}).status_code == 404
    # The other site's staff cannot open this patient's comparison, plot or report at all.
    client.force_login(stranger)
    assert client.get(url).status_code == 404
    site = measured["site"]
    assert client.get(reverse("progress:plot", args=[patient.pk, site.pk])).status_code == 404
    # Nor a site of this patient under their own patient's URL.
    client.force_login(staff[Role.PHYSICIAN])
    foreign = reverse("progress:plot", args=[patient.pk, theirs["site"].pk])
    assert client.get(foreign).status_code == 404


def test_patient_report_pdf(client, staff, patient, measured):
    _jobs(patient)
    nurse = staff[Role.NURSE]
    client.force_login(nurse)
    response = client.get(reverse("progress:report", args=[patient.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and response["Cache-Control"] == "no-store"
    html = views.report_html(patient=patient, printed_by=nurse)
    assert html.count("data:image/png;base64,") == 1  # the stored plot
    assert html.count("data:image/jpeg;base64,") == 2  # baseline and latest top view
    text = laid_out_text(html)
    assert "Investigational treatment" in text
    assert "A model forecast, not a promise" in text
    assert patient.mrn in text and "Side effects recorded" in text
    # The progress page links to it for clinical staff only.
    assert reverse("progress:report", args=[patient.pk]) in _page(client, nurse, patient)
    page = _page(client, staff[Role.AUDITOR], patient)
    assert reverse("progress:report", args=[patient.pk]) not in page
    assert client.get(reverse("progress:report", args=[patient.pk])).status_code == 403


def test_report_while_the_forecast_is_updating_leaves_the_model_out(
    staff, patient, measured, monkeypatch
):
    monkeypatch.setattr(services, "snapshots_refresh_later", lambda *, patient_id: None)
    outcomes_refresh(patient=patient)  # measured, forecast not computed yet
    text = laid_out_text(views.report_html(patient=patient, printed_by=staff[Role.NURSE]))
    assert "being updated" in text and "Investigational treatment" in text
