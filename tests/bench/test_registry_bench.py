"""Smoke test of ``bench.registry``: its fixture builds a small registry the pages can read.

No timings are asserted (that is the benchmark's job, on 10,000 patients); this only proves
that the benchmark's code still fits the models and the pages it measures.
"""

from __future__ import annotations

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse

from anagen.clinic.registry import analysis, selectors
from anagen.clinic.registry.models import OutcomeRecord
from bench.registry import TARGETS, _follow_ups, build_registry, table


def test_follow_ups_are_exactly_the_visits_asked_for() -> None:
    happens = _follow_ups(40, 400, np.random.default_rng(1))
    assert happens.sum() == 400 - 40
    # drop-out: the first follow-up is kept more often than the last
    assert happens[:, 0].sum() > happens[:, -1].sum()


@pytest.mark.django_db
def test_small_registry_builds_and_the_pages_read_it() -> None:
    physician, built = build_registry(n_patients=50, n_visits=500, progress=False)
    assert (built.patients, built.visits) == (50, 500)
    assert OutcomeRecord.objects.count() == built.outcome_rows >= 500
    frame = selectors.outcome_frame(user=physician)
    measure = analysis.MEASURES[analysis.DEFAULT_MEASURE]
    assert len(analysis.patients(frame)) == 50
    assert any(s.n > 0 for s in analysis.summarize(frame, measure))
    client = Client()
    client.force_login(physician)
    page = client.get(reverse("registry:home"))
    assert page.status_code == 200 and b"50 patients" in page.content
    plot = client.get(reverse("registry:plot"))
    assert plot.status_code == 200 and plot.content.startswith(b"\x89PNG")


def test_table_says_when_postgresql_did_not_run() -> None:
    times = {key: [0.1, 0.2] for key in TARGETS}
    result = {
        "engine": "sqlite",
        "version": "SQLite 3",
        "patients": 50,
        "visits": 500,
        "outcome_rows": 650,
        "build_s": 1.0,
        "load": [0.5, 0.7],
        "times": times,
    }
    text = table({"sqlite": result, "postgres": "no server"}, "cmd")
    assert "PostgreSQL: not run (no server)." in text
    assert "| yes |" in text
