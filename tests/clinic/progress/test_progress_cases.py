"""The progress page and plot for every treatment state: baseline before the first session,
one measurement, none, untreated patients, and plans with or without sessions still to come."""

from __future__ import annotations

from datetime import date, timedelta

import matplotlib.pyplot as plt
import pytest
from django.urls import reverse

from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import services
from anagen.clinic.imaging.selectors import further_session_days, outcome_series, session_days
from anagen.clinic.progress.forecast import progress_figure, site_forecast
from anagen.clinic.progress.selectors import forecast_inputs
from anagen.clinic.progress.services import snapshots_refresh
from anagen.clinic.registry.services import outcomes_refresh
from anagen.clinic.treatment.models import TreatmentPlan
from tests.clinic.imaging_helpers import imaging_world, phantom_png, upload
from tests.clinic.treatment_helpers import administer, consented_plan, released_product

pytestmark = pytest.mark.django_db

NO_FURTHER = "No further sessions are planned"


def _measure(nurse, patient, world, taken_on: date, seed: int):
    visit = services.imaging_visit_create(actor=nurse, patient=patient, taken_on=taken_on)
    record = services.trichoscopy_upload(
        actor=nurse,
        visit=visit,
        target_site=world["site"],
        device=world["device"],
        image=upload("m.png", phantom_png(seed)),
    )
    return services.trichoscopy_analyse(record=record)


def _treated(staff, patient):
    """A consented plan (3 planned sessions) with its first session given today."""
    physician, nurse = staff[Role.PHYSICIAN], staff[Role.NURSE]
    plan = consented_plan(physician, nurse, patient)
    product = released_product(physician, staff[Role.LAB_TECHNICIAN], plan)
    administer(physician, nurse, plan, product)
    plan.refresh_from_db()
    return plan


def _page_and_plot(client, staff, patient, site):
    """The page once the jobs ran (the outcome rows, then the stored forecast and plot)."""
    outcomes_refresh(patient=patient)
    snapshots_refresh(patient=patient)
    client.force_login(staff[Role.PHYSICIAN])
    page = client.get(reverse("progress:patient", args=[patient.pk]))
    assert page.status_code == 200, page.status_code
    plot = client.get(reverse("progress:plot", args=[patient.pk, site.pk]))
    if outcome_series(target_site=site):
        assert plot.status_code == 200 and plot.content.startswith(b"\x89PNG")
    else:
        assert plot.status_code == 404  # nothing measured: no plot to show
    return page.content.decode()


def _curve_labels(site) -> set[str]:
    outcomes_refresh(patient=site.patient)
    inputs = forecast_inputs(target_site=site)
    fig = progress_figure(inputs, site_forecast(inputs))
    try:
        return {line.get_label() for ax in fig.axes for line in ax.get_lines()}
    finally:
        plt.close(fig)


def test_baseline_imaging_before_the_first_session(client, staff, patient):
    """The normal workflow: baseline trichoscopy, then sessions. Day 0 is the baseline."""
    world = imaging_world(staff[Role.NURSE], patient, taken_on=date.today() - timedelta(days=21))
    _treated(staff, patient)
    series = outcome_series(target_site=world["site"])
    assert [m.day for m in series] == [0]
    assert session_days(patient=patient) == [21]
    assert further_session_days(patient=patient) == [21 + 56, 21 + 112]  # 2 of 3 left, 8 weeks
    page = _page_and_plot(client, staff, patient, world["site"])
    assert "Model forecast, not a promise" in page and NO_FURTHER not in page
    assert "model: with further sessions" in _curve_labels(world["site"])


def test_baseline_and_follow_up_around_a_session(client, staff, patient):
    world = imaging_world(staff[Role.NURSE], patient, taken_on=date.today() - timedelta(days=60))
    _treated(staff, patient)
    _measure(staff[Role.NURSE], patient, world, date.today(), seed=4)
    assert [m.day for m in outcome_series(target_site=world["site"])] == [0, 60]
    page = _page_and_plot(client, staff, patient, world["site"])
    assert "Model forecast, not a promise" in page


def test_single_measurement_untreated_without_a_plan(client, staff, patient):
    world = imaging_world(staff[Role.NURSE], patient)
    assert further_session_days(patient=patient) == []
    page = _page_and_plot(client, staff, patient, world["site"])
    assert "Model forecast, not a promise" in page and NO_FURTHER in page
    labels = _curve_labels(world["site"])
    assert "model: no further sessions" in labels
    assert "model: with further sessions" not in labels


def test_no_measurement_at_the_site(client, staff, patient):
    nurse = staff[Role.NURSE]
    site = services.target_site_create(
        actor=nurse, patient=patient, zone="frontal", description="Frontal, midline"
    )
    page = _page_and_plot(client, staff, patient, site)
    assert "No analysed trichoscopy at this site yet" in page
    assert not any(label.startswith("model:") for label in _curve_labels(site))


def test_no_target_site_at_all(client, staff, patient):
    client.force_login(staff[Role.PHYSICIAN])
    page = client.get(reverse("progress:patient", args=[patient.pk]))
    assert page.status_code == 200 and "No target site marked yet" in page.content.decode()


def test_plan_without_any_session_forecasts_the_planned_sessions(client, staff, patient):
    world = imaging_world(staff[Role.NURSE], patient)
    consented_plan(staff[Role.PHYSICIAN], staff[Role.NURSE], patient)
    assert len(further_session_days(patient=patient)) == 3
    page = _page_and_plot(client, staff, patient, world["site"])
    assert NO_FURTHER not in page
    assert "model: with further sessions" in _curve_labels(world["site"])


@pytest.mark.parametrize("how", ["all-given", "completed", "cancelled"])
def test_no_further_curve_when_the_plan_expects_no_more_sessions(client, staff, patient, how):
    world = imaging_world(staff[Role.NURSE], patient, taken_on=date.today() - timedelta(days=14))
    plan = _treated(staff, patient)
    if how == "all-given":
        TreatmentPlan.objects.filter(pk=plan.pk).update(planned_sessions=1)
    else:
        TreatmentPlan.objects.filter(pk=plan.pk).update(status=how)
    assert further_session_days(patient=patient) == []
    page = _page_and_plot(client, staff, patient, world["site"])
    assert NO_FURTHER in page
    labels = _curve_labels(world["site"])
    assert "model: no further sessions" in labels
    assert "model: with further sessions" not in labels
