"""What the clinic's imports (FHIR Bundles, spreadsheets) share: the problem list, and writing
through the services all or nothing, with a dry run that checks every rule and keeps nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from django.core.exceptions import ValidationError
from django.db import transaction

#: The code of a record a clinic service refused without a code of its own.
REFUSED = "refused"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: where (``row 4, Date of birth``), what, and its code."""

    location: str
    message: str
    code: str

    def as_dict(self) -> dict[str, str]:
        return {"location": self.location, "message": self.message, "code": self.code}


class Report(Protocol):
    dry_run: bool
    problems: list[Problem]


def service_refusals(
    where: str,
    exc: ValidationError,
    *,
    at_field: str = "{where} ({name})",
    names: Mapping[str, str] | None = None,
) -> list[Problem]:
    """A service's ValidationError as problems at ``where`` (a field's name, in the file's
    words from ``names`` where given, added by ``at_field``), each with the service's own
    error code."""
    names = names or {}
    if hasattr(exc, "error_dict"):
        return [
            Problem(
                at_field.format(where=where, name=names.get(name, name)),
                " ".join(error.messages),
                str(error.code or REFUSED),
            )
            for name, errors in exc.error_dict.items()
            for error in errors
        ]
    return [
        Problem(where, " ".join(error.messages), str(error.code or REFUSED))
        for error in exc.error_list
    ]


class _Abort(Exception):
    pass


def write_all_or_nothing(write: Callable[[], None], report: Report) -> None:
    """Run ``write`` (which adds what the services refuse to ``report.problems``) in one
    transaction, rolled back for a dry run or when anything was refused."""
    try:
        with transaction.atomic():
            write()
            if report.dry_run or report.problems:
                raise _Abort
    except _Abort:
        pass


def refused_message(lead: str, problems: Sequence[Problem]) -> str:
    """``lead (3 problems; first: row 4, Date of birth: …)``."""
    first = problems[0]
    plural = "s" if len(problems) != 1 else ""
    return f"{lead} ({len(problems)} problem{plural}; first: {first.location}: {first.message})"
