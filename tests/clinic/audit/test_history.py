"""Every clinical model keeps its history; the few that do not are append-only by construction."""

import pytest
from django.apps import apps
from simple_history.models import registered_models

CLINICAL_APPS = (
    "patients",
    "intake",
    "assessment",
    "treatment",
    "imaging",
    "accounts",
    "audit",
    "common",
    "demo",
)

#: Models without simple-history, and why that is safe.
WITHOUT_HISTORY = {
    "patients.MrnSequence": "a counter, not clinical data",
    "treatment.DonationSequence": "a counter, not clinical data",
    "intake.ReminderSent": "append-only log of sent reminders",
    "treatment.CustodyEvent": "append-only: save()/delete() raise and the database refuses "
    "UPDATE and DELETE (test_append_only.py)",
    "audit.Signature": "append-only: save()/delete() raise and the database refuses "
    "UPDATE and DELETE (test_append_only.py)",
    "common.SubmittedForm": "replay guard of create forms (token and redirect), not clinical data",
    "imaging.MatchedChange": "derived: recomputed by a job from two images whose analyses and "
    "corrections have history, with the matching algorithm's version on each row",
}
APPEND_ONLY = ("treatment.CustodyEvent", "audit.Signature")


def clinical_models():
    from simple_history.models import HistoricalChanges

    for label in CLINICAL_APPS:
        # include_auto_created: the staff ↔ site link table must be covered too (m2m history).
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if not issubclass(model, HistoricalChanges):  # the history tables themselves
                yield model


def _tracked() -> set[str]:
    """Models whose changes are recorded, including m2m link tables (``m2m_fields``)."""
    return {m._meta.label for m in registered_models.values()}


def test_every_clinical_model_has_history():
    tracked = _tracked()
    missing = [
        m._meta.label
        for m in clinical_models()
        if m._meta.label not in tracked and m._meta.label not in WITHOUT_HISTORY
    ]
    assert not missing, f"clinical models without history: {missing}"
    assert set(WITHOUT_HISTORY) <= {m._meta.label for m in clinical_models()}


@pytest.mark.parametrize("label", APPEND_ONLY)
def test_append_only_models_refuse_changes(label):
    model = apps.get_model(label)
    row = model(pk=1)
    with pytest.raises(ValueError, match="append-only"):
        row.save()
    with pytest.raises(ValueError, match="append-only"):
        row.delete()


@pytest.mark.django_db
def test_staff_history_records_role_sites_and_status_not_secrets(site, other_site):
    from tests.clinic.conftest import make_user

    user = make_user("nurse", site)
    user.role = "physician"
    user.save()
    user.sites.add(other_site)
    user.is_active = False
    user.save()
    user.set_password("a-new-password-2026")
    user.save()
    rows = list(user.history.order_by("history_id"))
    fields = {f.name for f in rows[-1]._meta.fields}
    assert "password" not in fields and "last_login" not in fields
    assert rows[0].role == "nurse"
    assert any(r.role == "physician" for r in rows) and rows[-1].is_active is False
    site_sets = [{s.site_id for s in r.sites.all()} for r in rows]
    assert {site.pk} in site_sets and {site.pk, other_site.pk} in site_sets
    delta = rows[-2].diff_against(rows[0])
    assert {"role", "is_active", "sites"} <= {c.field for c in delta.changes}


@pytest.mark.django_db
def test_a_login_leaves_no_history_row(client, site):
    from tests.clinic.conftest import make_user

    user = make_user("nurse", site)
    before = user.history.count()
    client.force_login(user)  # sends user_logged_in, which stamps last_login
    user.refresh_from_db()
    assert user.last_login is not None and user.history.count() == before


@pytest.mark.parametrize(
    "label",
    [
        "imaging.Device",
        "imaging.TargetSite",
        "imaging.ImagingVisit",
        "imaging.GlobalPhoto",
        "imaging.TrichoscopyImage",
        "accounts.User",
        "accounts.Site",
    ],
)
def test_imaging_and_staff_models_have_history(label):
    assert label in _tracked()
