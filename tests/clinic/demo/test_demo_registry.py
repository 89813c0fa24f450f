"""The demo clinic's registry is worth looking at (issue 11): imaged patients over several
protocols, responders and non-responders, missed follow-ups, photo pairs for the blinded
review, phototrichogram anagen fractions and adverse events."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from anagen.clinic.accounts.models import User
from anagen.clinic.common import clock
from anagen.clinic.demo.loader import DEMO_DOMAIN
from anagen.clinic.imaging.models import GlobalPhoto, MatchedChange, TrichoscopyImage
from anagen.clinic.registry import analysis, selectors
from anagen.clinic.registry.models import OutcomeRecord, VisitReport
from anagen.clinic.review.models import ReviewPair

# Real commits: the analyses, the outcome table and the snapshots run after the demo commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.slow(100)  # with the matched follow-ups (issue 15)
def test_demo_registry_is_rich():
    call_command("load_demo", patients=80, stdout=open("/dev/null", "w"))  # noqa: SIM115
    researcher = User.objects.get(email=f"researcher@{DEMO_DOMAIN}")
    frame = selectors.outcome_frame(user=researcher)
    imaged = analysis.patients(frame)
    assert len(imaged) >= 8
    assert frame["protocol"].nunique() > 1

    # Responders and non-responders at day 180 (the density rule of the registry page).
    density = analysis.MEASURES["density_per_cm2"]
    day180 = next(s for s in analysis.summarize(frame, density) if s.window_day == 180)
    assert day180.n >= 2
    assert 0 < day180.n_responders < day180.n

    # Missed follow-up visits show in the completeness table.
    scheduled = selectors.scheduled_follow_ups(user=researcher)
    rows = analysis.completeness(scheduled, frame, today=clock.localdate())
    assert sum(r.missed for r in rows) > 0
    assert sum(r.done for r in rows) > sum(r.missed for r in rows)

    # Standardized photos at every imaged visit; before/after pairs for the blinded review.
    baseline_visits = OutcomeRecord.objects.filter(visit_day=0).values("visit_id")
    assert GlobalPhoto.objects.filter(visit_id__in=baseline_visits, view="top").count() == len(
        imaged
    )
    assert ReviewPair.objects.filter(view="top").exists()
    assert ReviewPair.objects.filter(view="front").exists()
    assert VisitReport.objects.exclude(global_assessment=None).exists()

    # The phototrichogram re-images give the outcome table an anagen fraction.
    assert TrichoscopyImage.objects.filter(regrowth_of__isnull=False).exists()
    assert frame["anagen_fraction"].notna().any()
    anagen = analysis.MEASURES["anagen_fraction"]
    assert any(s.n for s in analysis.summarize(frame, anagen))

    # Follow-up images are matched hair to hair with their site's baseline (issue 15), and the
    # outcome table carries the matched change.
    assert MatchedChange.objects.filter(status=MatchedChange.Status.MATCHED).exists()
    assert OutcomeRecord.objects.exclude(matched_change_per_cm2=None).exists()

    # The registry's safety table is not empty.
    events, sessions = selectors.adverse_events_frame(user=researcher)
    assert not events.empty and sessions > 0
    rates = analysis.event_rates(events, n_patients=len(imaged), n_sessions=sessions)
    assert any(r.n_events for r in rates)
