"""Registry pages: cohort filters, statistics equal to anagen.evidence's, comparison, completeness,
adverse events, the cohort PDF, the "what to expect" sheet, and who sees what."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pandas as pd
import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from anagen.clinic.accounts.roles import Role
from anagen.clinic.assessment.services import assessment_record
from anagen.clinic.registry import analysis
from anagen.clinic.registry.selectors import Cohort, outcome_frame
from anagen.clinic.treatment.models import AdverseEvent, ScheduledVisit
from anagen.evidence import compare_cohorts, summarize_change
from anagen.evidence.change import ResponderRule
from tests.clinic.conftest import make_user
from tests.clinic.registry.seed import seed_patient

pytestmark = pytest.mark.django_db

#: Day → density for the two groups: A gains about 20, B about 5 (known spreads).
GAINS_A = [18.0, 25.0, 8.0, 30.0, 21.0]
GAINS_B = [4.0, 9.0, -2.0, 6.0]


@pytest.fixture
def registry(site, staff):
    actor = staff[Role.NURSE]
    a = [
        seed_patient(
            actor,
            site,
            n=i,
            densities={0: 100.0 + i, 92: 100.0 + i + g, 180: 100.0 + i + g + 3},
            sex="male",
            age=35,
            prp=True,
            protocol="SVF with PRP",
        )
        for i, g in enumerate(GAINS_A)
    ]
    b = [
        seed_patient(
            actor,
            site,
            n=100 + i,
            densities={0: 120.0 - i, 95: 120.0 - i + g},
            sex="female",
            age=58,
            stage="Ludwig II",
            protocol="SVF alone",
            cells=60_000_000,
        )
        for i, g in enumerate(GAINS_B)
    ]
    return {"a": a, "b": b, "actor": actor}


def _ids(frame: pd.DataFrame) -> set[int]:
    return {int(p) for p in frame["patient_id"]}


def test_cohort_filters_narrow_whole_patients(registry, physician):
    a = {p.pk for p in registry["a"]}
    b = {p.pk for p in registry["b"]}

    def ids(**kw) -> set[int]:
        return _ids(outcome_frame(user=physician, cohort=Cohort(**kw)))

    assert ids() == a | b
    assert ids(sex="male") == a
    assert ids(age_min=50, age_max=59) == b
    assert ids(stage="Ludwig II") == b
    assert ids(protocol="SVF with PRP") == a
    assert ids(prp=True) == a
    assert ids(prp=False) == b
    assert ids(cells_min=50_000_001) == b
    assert ids(cells_max=50_000_000) == a
    assert ids(baseline_from=date(2024, 2, 1)) == set()
    assert ids(baseline_to=date(2024, 1, 10)) == a | b


def test_statistics_are_those_of_the_evidence_library(registry, physician, client):
    frame = outcome_frame(user=physician, cohort=Cohort(sex="male"))
    measure = analysis.MEASURES["density_per_cm2"]
    ours = analysis.summarize(frame, measure)
    table = pd.DataFrame(
        [
            {"patient_id": str(p.pk), "visit_day": d, "density_per_cm2": v}
            for p, g in zip(registry["a"], GAINS_A, strict=True)
            for d, v in ((0, 0.0), (92, g), (180, g + 3))
        ]
    )
    theirs = summarize_change(table, "density_per_cm2", rule=ResponderRule(delta=10.0))
    assert [s.window_day for s in ours] == [14, 30, 60, 90, 180, 365]
    for mine, ref in zip(ours, theirs, strict=True):
        assert mine.n == ref.n and mine.n_missing == ref.n_missing
        for field in ("mean_change", "ci_low", "ci_high", "median_change", "responder_rate"):
            x, y = getattr(mine, field), getattr(ref, field)
            assert (math.isnan(x) and math.isnan(y)) or x == pytest.approx(y), field
    day90 = next(s for s in ours if s.window_day == 90)
    assert day90.n == 5 and day90.n_missing == 0
    assert day90.mean_change == pytest.approx(sum(GAINS_A) / 5)
    assert day90.n_responders == 4  # a gain of 8 is below the 10 hairs/cm² rule
    # The page shows the same numbers.
    client.force_login(physician)
    page = client.get(reverse("registry:home"), {"sex": "male"}).content.decode()
    assert analysis.fmt(day90.mean_change) in page
    assert analysis.interval(day90.ci_low, day90.ci_high) in page
    assert "5 patients" in page


def test_target_sites_are_averaged_per_visit(site, staff, physician):
    patient = seed_patient(
        staff[Role.NURSE],
        site,
        n=7,
        densities={0: 100.0, 90: 120.0},
        zones=("vertex", "frontal"),
    )
    frame = outcome_frame(user=physician)
    assert len(frame) == 4
    table = analysis.per_visit(frame, analysis.MEASURES["density_per_cm2"])
    assert list(table["density_per_cm2"]) == [101.0, 121.0]
    # Narrowed to one zone, the zone's own values.
    only = outcome_frame(user=physician, cohort=Cohort(zone="frontal"))
    assert set(only["density_per_cm2"]) == {102.0, 122.0}
    assert _ids(only) == {patient.pk}


def test_score_measures_summarise_the_score_itself(site, staff, physician):
    for i, score in enumerate([4, 5, 3, 4]):
        seed_patient(
            staff[Role.NURSE],
            site,
            n=200 + i,
            densities={0: 100.0, 90: 110.0},
            satisfaction={90: score},
        )
    measure = analysis.MEASURES["satisfaction"]
    summary = next(
        s for s in analysis.summarize(outcome_frame(user=physician), measure) if s.window_day == 90
    )
    assert summary.n == 4 and summary.mean_change == pytest.approx(4.0)
    assert summary.n_responders == 3  # satisfied or very satisfied


def test_comparison_matches_compare_cohorts(registry, physician, client):
    frame_a = outcome_frame(user=physician, cohort=Cohort(sex="male"))
    frame_b = outcome_frame(user=physician, cohort=Cohort(sex="female"))
    comparisons = analysis.compare(frame_a, frame_b, analysis.MEASURES["density_per_cm2"])
    expected = compare_cohorts(GAINS_A, GAINS_B)
    got = comparisons[90.0]
    assert got is not None
    assert got.difference == pytest.approx(expected.difference)
    assert got.ci_low == pytest.approx(expected.ci_low)
    assert got.hedges_g == pytest.approx(expected.hedges_g)
    assert comparisons[180.0] is None  # cohort B has no day-180 visit
    client.force_login(physician)
    page = client.get(reverse("registry:compare"), {"a-sex": "male", "b-sex": "female"})
    html = page.content.decode()
    assert analysis.fmt(expected.difference) in html
    assert analysis.fmt(expected.hedges_g, 2) in html
    assert "Fewer than 2 patients" in html
    plot = client.get(reverse("registry:compare_plot"), {"a-sex": "male", "b-sex": "female"})
    assert plot["Content-Type"] == "image/png" and plot.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_patient_in_both_cohorts_counts_in_each(registry, physician):
    everyone = outcome_frame(user=physician)
    comparisons = analysis.compare(everyone, everyone, analysis.MEASURES["density_per_cm2"])
    same = comparisons[90.0]
    assert same is not None and same.difference == pytest.approx(0.0)
    assert same.n_a == same.n_b == 9


def test_completeness_counts_due_done_and_missed(registry, physician, client, monkeypatch):
    patient = registry["a"][0]
    other = registry["a"][1]
    from anagen.clinic.registry import selectors

    rows = pd.DataFrame(
        [
            # measured at day 92 → the day-90 visit is done
            (patient.pk, 90, date(2024, 4, 9), date(2024, 4, 19), False),
            # not measured at day 90, window closed → missed
            (other.pk, 90, date(2024, 4, 9), date(2024, 4, 19), False),
            # not measured at day 365 but marked completed → done
            (patient.pk, 365, date(2025, 1, 9), date(2025, 2, 8), True),
            # far in the future → not yet due
            (other.pk, 365, date(2099, 1, 1), date(2099, 2, 1), False),
        ],
        columns=["patient_id", "window_day", "due_on", "window_end", "completed"],
    )
    frame = outcome_frame(user=physician)
    frame = frame[frame["patient_id"].isin({patient.pk})]
    got = {c.window_day: c for c in analysis.completeness(rows, frame, today=date(2025, 6, 1))}
    assert (got[90].due, got[90].done, got[90].missed, got[90].open) == (2, 1, 1, 0)
    assert (got[365].due, got[365].done, got[365].missed) == (1, 1, 0)
    assert got[14].due == 0
    # A window still running counts as open, not missed.
    still = analysis.completeness(rows, frame.iloc[0:0], today=date(2024, 4, 12))
    day90 = next(c for c in still if c.window_day == 90)
    assert (day90.due, day90.missed, day90.open) == (2, 0, 2)
    assert selectors.scheduled_follow_ups(user=physician).empty  # no plans seeded


def test_follow_up_rows_come_from_the_schedule(physician, staff, client, patient, site):
    from tests.clinic.treatment_helpers import consented_plan

    plan = consented_plan(physician, staff[Role.NURSE], patient)
    from anagen.clinic.treatment.services.schedule import visits_schedule

    visits_schedule(plan=plan, first_session_on=date(2024, 1, 10))
    from anagen.clinic.registry import selectors

    # Not in the registry yet (no outcome rows): no follow-ups counted.
    assert selectors.scheduled_follow_ups(user=physician).empty
    from anagen.clinic.imaging.models import Device, ImagingVisit, TargetSite, TrichoscopyImage
    from anagen.clinic.registry.models import OutcomeRecord

    target = TargetSite.objects.create(patient=patient, zone="vertex", description="v")
    visit = ImagingVisit.objects.create(
        patient=patient, taken_on=date(2024, 1, 9), created_by=physician
    )
    image = TrichoscopyImage.objects.create(
        visit=visit,
        target_site=target,
        device=Device.objects.create(name="d", um_per_px=6),
        image="x.png",
        uploaded_by=physician,
    )
    OutcomeRecord.objects.create(
        patient=patient,
        site=site,
        visit=visit,
        target_site=target,
        image=image,
        taken_on=visit.taken_on,
        visit_day=0,
        density_per_cm2=100,
        terminal_density_per_cm2=70,
        vellus_density_per_cm2=30,
        density_auto_per_cm2=100,
        terminal_density_auto_per_cm2=70,
        vellus_density_auto_per_cm2=30,
        algorithm_version="x",
        age_years=35,
        sex="female",
        zone="vertex",
        refreshed_at=timezone.now(),
    )
    follow = selectors.scheduled_follow_ups(user=physician)
    labels = ScheduledVisit.objects.filter(plan=plan, kind=ScheduledVisit.Kind.FOLLOW_UP)
    assert sorted(follow["window_day"]) == sorted(int(v.label.split()[1]) for v in labels)
    client.force_login(physician)
    page = client.get(reverse("registry:home")).content.decode()
    assert "Data completeness" in page


def test_adverse_event_rates_by_type_and_grade(registry, physician, client):
    patient = registry["a"][0]
    for grade in (1, 2):
        AdverseEvent.objects.create(
            patient=patient,
            type=AdverseEvent.Type.BRUISING,
            site=AdverseEvent.Site.HARVEST,
            grade=grade,
            onset_on=date(2024, 1, 12),
            relatedness=AdverseEvent.Relatedness.PROBABLE,
            reported_by=physician,
            description="Secret note Vantablack",
        )
    client.force_login(physician)
    html = client.get(reverse("registry:home"), {"sex": "male"}).content.decode()
    assert "Bruising" in html and "Grade 1" in html and "Grade 2" in html
    assert "1/5" in html  # one of the five patients
    assert "Vantablack" not in html  # never free text
    rates = analysis.event_rates(
        pd.DataFrame(
            [(patient.pk, "bruising", 1, None), (patient.pk, "bruising", 2, None)],
            columns=["patient_id", "type", "grade", "session_id"],
        ),
        n_patients=5,
        n_sessions=0,
    )
    assert rates[0].type == "any" and rates[0].patients_with_event == 1
    assert rates[0].patient_ci_low == pytest.approx(0.00505, abs=1e-4)  # exact CI of 1/5
    assert rates[0].patient_ci_high == pytest.approx(0.7164, abs=1e-3)


def test_plot_and_pdf(registry, physician, client):
    client.force_login(physician)
    png = client.get(reverse("registry:plot"), {"measure": "mean_diameter_um"})
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    pdf = client.get(reverse("registry:cohort_pdf"), {"sex": "male"})
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    empty = client.get(reverse("registry:plot"), {"sex": "other"})
    assert empty.status_code == 200


def test_bad_and_hostile_cohort_input(registry, physician, client, other_site):
    client.force_login(physician)
    # Another site's id is not a choice: the form says so and shows no numbers.
    page = client.get(reverse("registry:home"), {"site": other_site.pk})
    assert page.status_code == 200
    assert "Select a valid choice" in page.content.decode()
    assert "patients ·" not in page.content.decode()
    assert client.get(reverse("registry:plot"), {"site": other_site.pk}).status_code == 404
    assert client.get(reverse("registry:cohort_pdf"), {"site": "x"}).status_code == 404
    swapped = client.get(
        reverse("registry:home"), {"baseline_from": "2024-05-01", "baseline_to": "2024-01-01"}
    )
    assert "before its start" in swapped.content.decode()
    nonsense = client.get(reverse("registry:home"), {"measure": "mrn", "age_band": "1-200"})
    assert nonsense.status_code == 200
    # An unknown measure falls back to density; an unknown band is refused.
    assert "Select a valid choice" in nonsense.content.decode()


def test_staff_of_another_site_see_an_empty_registry(registry, client, other_site):
    stranger = make_user(Role.PHYSICIAN, other_site, email="far@example.test")
    client.force_login(stranger)
    html = client.get(reverse("registry:home")).content.decode()
    assert "0 patients" in html


def test_registry_pages_show_no_names_or_mrns(registry, client, staff, site):
    researcher = make_user(Role.RESEARCHER, site, email="r@example.test")
    patients = registry["a"] + registry["b"]
    query = {"a-sex": "male", "b-sex": "female"}
    for user in (researcher, staff[Role.PHYSICIAN], staff[Role.AUDITOR]):
        client.force_login(user)
        for name, params in (
            ("registry:home", {}),
            ("registry:compare", query),
        ):
            html = client.get(reverse(name), params).content.decode()
            for p in patients:
                assert p.mrn not in html and p.family_name not in html
                assert p.given_name not in html and p.phone not in html


def test_researcher_gets_the_registry_home_and_no_clinic_nav(client, site):
    researcher = make_user(Role.RESEARCHER, site, email="r2@example.test")
    client.force_login(researcher)
    html = client.get(reverse("registry:home")).content.decode()
    assert reverse("patients:list") not in html and reverse("intake:day") not in html
    assert reverse("registry:export") in html
    assert client.get(reverse("patients:list")).status_code == 403


# --- what to expect -------------------------------------------------------------------------


@pytest.fixture
def prospect(site, coordinator, physician):
    from anagen.clinic.patients.services import patient_create

    born = date.today() - timedelta(days=365 * 41)
    patient = patient_create(
        actor=coordinator,
        site=site,
        given_name="Prospera",
        family_name="Newcombe",
        date_of_birth=born,
        sex="male",
    )
    assessment_record(actor=physician, patient=patient, pattern="thinning", norwood="III")
    return patient


def _similar(actor, site, count: int, *, start: int = 300, sex="male", stage="Norwood III"):
    return [
        seed_patient(
            actor,
            site,
            n=start + i,
            densities={0: 100.0, 90: 100.0 + 5 + i, 180: 100.0 + 8 + i, 365: 100.0 + 6 + i},
            sex=sex,
            age=40,
            stage=stage,
        )
        for i in range(count)
    ]


@override_settings(ANAGEN_EXPECT_MIN_PATIENTS=10)
def test_expect_sheet_says_too_few_without_numbers(prospect, physician, staff, site, client):
    _similar(staff[Role.NURSE], site, 9)
    _similar(staff[Role.NURSE], site, 5, start=400, sex="female")  # not like him
    _similar(staff[Role.NURSE], site, 5, start=500, stage="Norwood VI")  # other stage
    client.force_login(physician)
    html = client.get(reverse("registry:expect", args=[prospect.pk])).content.decode()
    assert "Too few similar patients" in html
    assert "9 such patients" in html
    assert "hairs/" not in html.split("Too few similar patients")[1].split("</section>")[0]
    assert "Average change" not in html
    assert "Investigational therapy" in html


@override_settings(ANAGEN_EXPECT_MIN_PATIENTS=10)
def test_expect_sheet_shows_intervals_with_enough_patients(
    prospect, physician, staff, site, client
):
    similar = _similar(staff[Role.NURSE], site, 12)
    client.force_login(physician)
    html = client.get(reverse("registry:expect", args=[prospect.pk])).content.decode()
    frame = outcome_frame(user=physician, cohort=Cohort(sex="male", stage="Norwood III"))
    assert _ids(frame) == {p.pk for p in similar}
    ref = summarize_change(
        pd.DataFrame(
            [
                {"patient_id": str(i), "visit_day": d, "density_per_cm2": v}
                for i in range(12)
                for d, v in ((0, 100.0), (90, 105.0 + i), (180, 108.0 + i), (365, 106.0 + i))
            ]
        ),
        "density_per_cm2",
        windows=(90, 180, 365),
    )
    for s in ref:
        assert analysis.interval(s.ci_low, s.ci_high) in html
    assert "Too few similar patients" not in html
    assert "12 such patients" in html
    assert "Investigational therapy" in html
    # The patient's own rows never count for themselves.
    assert prospect.mrn not in html


def test_expect_sheet_is_for_this_sites_patients_only(prospect, client, other_site):
    stranger = make_user(Role.PHYSICIAN, other_site, email="far2@example.test")
    client.force_login(stranger)
    assert client.get(reverse("registry:expect", args=[prospect.pk])).status_code == 404
    assert client.get(reverse("registry:expect", args=[999999])).status_code == 404


def test_chart_links_to_expect_sheet_for_physicians_only(prospect, client, staff):
    url = reverse("registry:expect", args=[prospect.pk])
    client.force_login(staff[Role.PHYSICIAN])
    assert url in client.get(reverse("patients:chart", args=[prospect.pk])).content.decode()
    client.force_login(staff[Role.NURSE])
    assert url not in client.get(reverse("patients:chart", args=[prospect.pk])).content.decode()


def test_a_researcher_signs_in_to_the_registry(client, site):
    from tests.clinic.conftest import PASSWORD

    researcher = make_user(Role.RESEARCHER, site, email="signin-res@example.test")
    response = client.post(
        reverse("account_login"), {"login": researcher.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:home")
