"""The seam between imaging's services and its Celery tasks.

The tasks call the services; the services must not import the tasks back (that was an import
cycle, held apart by a late import). They name the job instead, and this module sends it through
the Celery app's task registry once the database transaction commits (the web request only
enqueues). ``ImagingConfig.ready`` imports ``tasks`` so the names are registered.
"""

from __future__ import annotations

from django.db import transaction

from anagen.clinic.celery import app

ANALYSE_TRICHOSCOPY = "anagen.clinic.imaging.tasks.analyse_trichoscopy"


def send_on_commit(task_name: str, *args: object) -> None:
    """Queue ``task_name(*args)`` when the current transaction commits (at once outside one)."""
    # The project's app by name, not Celery's "current" one: another app made in the same
    # process (a client of a real worker) would otherwise receive the job.
    task = app.tasks[task_name]
    transaction.on_commit(lambda: task.delay(*args))


MATCH_TRICHOSCOPY = "anagen.clinic.imaging.tasks.match_trichoscopy"
