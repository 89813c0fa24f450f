"""The clinic's clock: the one place services, selectors and record timestamps read "now".

Normally ``now()`` is ``django.utils.timezone.now()``. ``frozen(moment)`` makes it return
``moment`` for the code run inside the block, so that records can be entered *as of* a past
moment and obey the same rules they would have obeyed then: the demo loader builds a clinic's
past this way (a harvest "now" in March is checked against March, and its custody events and
history rows are dated in March).

The frozen moment is held in a ``ContextVar``: it applies only to the thread (or asyncio task)
that entered the block, never to the requests other threads are serving at the same time, and
it ends with the block even when the block raises.

Who reads it: every service and selector that needs "now" or "today" (``now()``,
``localdate()``), the models' creation timestamps (``ClockDateTimeField(auto_now_add=True)``),
the e-signature time and the history rows (``history_date_from_clock``). Views and forms that
only pre-fill a field with the current time read Django's clock: they show the real present.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any

from django.db import models
from django.utils import timezone

_frozen: ContextVar[datetime | None] = ContextVar("anagen_clock_frozen", default=None)


def now() -> datetime:
    """The current moment (aware), or the frozen one inside ``frozen()``."""
    moment = _frozen.get()
    return timezone.now() if moment is None else moment


def localdate() -> date:
    """Today in the current time zone, by ``now()``."""
    return timezone.localdate(now())


def is_frozen() -> bool:
    return _frozen.get() is not None


@contextmanager
def frozen(moment: datetime) -> Iterator[datetime]:
    """Run the block as if it were ``moment`` (an aware datetime) for this thread or task."""
    if timezone.is_naive(moment):
        raise ValueError("the clinic clock is frozen at an aware datetime only")
    token = _frozen.set(moment)
    try:
        yield moment
    finally:
        _frozen.reset(token)


# DateTimeField is generic in django-stubs only; subscripting it would fail at run time.
class ClockDateTimeField(models.DateTimeField):  # type: ignore[type-arg]
    """A ``DateTimeField`` whose ``auto_now_add`` reads the clinic clock instead of Django's.

    It deconstructs as a plain ``DateTimeField``: the column, the migrations and the model state
    are exactly those of ``auto_now_add``; only the value written on insert comes from ``now()``.
    """

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        if self.auto_now_add and add:
            value = now()
            setattr(model_instance, self.attname, value)
            return value
        return super().pre_save(model_instance, add)

    def deconstruct(self) -> Any:
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.DateTimeField", args, kwargs


def history_date_from_clock(*, history_instance: Any, instance: Any, **_: Any) -> None:
    """Date a django-simple-history row by the clinic clock (``pre_create_historical_record``).

    simple-history dates rows with Django's clock unless the record carries ``_history_date``;
    an explicit ``_history_date`` is kept.
    """
    if not hasattr(instance, "_history_date"):
        history_instance.history_date = now()
