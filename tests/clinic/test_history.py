"""Every clinical model keeps its history; the few that do not are append-only by construction."""

import pytest
from django.apps import apps
from simple_history.models import registered_models

CLINICAL_APPS = ("patients", "intake", "assessment", "treatment", "core")

#: Models without simple-history, and why that is safe.
WITHOUT_HISTORY = {
    "patients.MrnSequence": "a counter, not clinical data",
    "treatment.DonationSequence": "a counter, not clinical data",
    "intake.ReminderSent": "append-only log of sent reminders",
    "treatment.CustodyEvent": "append-only: save() of an existing row and delete() raise",
    "core.Signature": "append-only: save() of an existing row and delete() raise",
    "core.SubmittedForm": "replay guard of create forms (token and redirect), not clinical data",
}
APPEND_ONLY = ("treatment.CustodyEvent", "core.Signature")


def clinical_models():
    from simple_history.models import HistoricalChanges

    for label in CLINICAL_APPS:
        for model in apps.get_app_config(label).get_models():
            if not issubclass(model, HistoricalChanges):  # the history tables themselves
                yield model


def test_every_clinical_model_has_history():
    tracked = {m._meta.label for m in registered_models.values()}
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
