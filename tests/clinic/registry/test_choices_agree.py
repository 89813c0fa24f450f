"""The pure export's category codes are the clinic's own choices (sex, zone, method)."""

from anagen import deidentify
from anagen.clinic.common.scalp import ScalpZone
from anagen.clinic.patients.models import Sex
from anagen.clinic.treatment.models import Method


def test_export_choices_match_the_models():
    assert dict(deidentify.SEX) == dict(Sex.choices)
    assert dict(deidentify.ZONES) == dict(ScalpZone.choices)
    assert dict(deidentify.METHODS) == dict(Method.choices)
