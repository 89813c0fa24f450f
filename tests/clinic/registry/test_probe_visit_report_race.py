"""Probe: two clinicians save the first report of one visit at the same moment. The loser of
the race on the one-report-per-visit index gets a refusal on the form, never a server error,
and does not overwrite the winner's answers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from anagen.clinic.accounts.roles import Role
from anagen.clinic.imaging import services as imaging
from anagen.clinic.registry import services
from anagen.clinic.registry.models import VisitReport
from tests.clinic.refusals import raises_code

pytestmark = pytest.mark.django_db


def test_the_loser_of_a_first_report_race_is_refused(staff, patient, physician, monkeypatch):
    nurse = staff[Role.NURSE]
    visit = imaging.imaging_visit_create(
        actor=nurse, patient=patient, taken_on=date.today() - timedelta(days=1)
    )
    original_full_clean = VisitReport.full_clean

    def clean_then_a_rival_commits(self, *args, **kwargs):
        original_full_clean(self, *args, **kwargs)
        if self.pk is None and not VisitReport.objects.filter(visit_id=self.visit_id).exists():
            # The rival request commits its report between our read and our insert.
            VisitReport.objects.bulk_create(
                [VisitReport(visit_id=self.visit_id, recorded_by=physician, global_assessment=2)]
            )

    monkeypatch.setattr(VisitReport, "full_clean", clean_then_a_rival_commits)
    with raises_code("report_saved_concurrently"):
        services.visit_report_record(
            actor=nurse,
            visit=visit,
            pull_test_hairs=5,
            satisfaction=None,
            shedding=None,
            global_assessment=None,
        )
    # (Here the rival's row rolls back with the refused transaction it was simulated in; in
    # production it was committed by the other request and stays as saved.)
