"""Asserting refusals by their code (``error_codes``), not by their wording."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError


def codes(error: ValidationError) -> set[str]:
    """Every code carried by a (possibly field-keyed) ValidationError."""
    if hasattr(error, "error_dict"):
        return {e.code for errors in error.error_dict.values() for e in errors if e.code}
    return {e.code for e in error.error_list if e.code}


@contextmanager
def raises_code(code: str, field: str | None = None) -> Iterator[pytest.ExceptionInfo]:
    """Like ``pytest.raises(ValidationError)``; the refusal must carry ``code`` (on ``field``)."""
    with pytest.raises(ValidationError) as caught:
        yield caught
    error = caught.value
    assert code in codes(error), (code, error)
    if field is not None:
        assert code in {e.code for e in error.error_dict.get(field, [])}, (code, field, error)


def refused(code: str, call, *args, **kwargs) -> ValidationError:
    """Call ``call``; it must refuse with ``code``. Returns the refusal."""
    with raises_code(code) as caught:
        call(*args, **kwargs)
    return caught.value
