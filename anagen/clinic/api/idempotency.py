"""The stored responses of ``Idempotency-Key`` actions: claiming a key, taking over a key whose
request died, recording the response, and deleting old responses (docs/api.md).

A key is claimed in its own committed row (``IdempotentResponse`` with no status yet) before
the action runs; the action and the recording of its response then commit together, so a row
still without a status means the action did not happen. Its ``created_at`` is the moment of the
current claim: a claim older than ``ANAGEN_IDEMPOTENCY_STALE_SECONDS`` belongs to a request that
died (a worker killed mid-request) and a retry takes it over, by a compare-and-set on that
moment, so of two retries at once only one acts. A request that outlived its claim finds it
taken and undoes its work instead of recording it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from anagen.clinic.accounts.models import User
from anagen.clinic.common import clock

from .models import IdempotentResponse

#: Takeovers and purges are logged with ids and counts only, never a request's content.
logger = logging.getLogger("anagen.api")


def stale_after() -> timedelta:
    return timedelta(seconds=int(settings.ANAGEN_IDEMPOTENCY_STALE_SECONDS))


def kept_for() -> timedelta:
    return timedelta(hours=int(settings.ANAGEN_IDEMPOTENCY_KEEP_HOURS))


@dataclass(frozen=True)
class Claim:
    """What claiming a key found: ``record`` is ours to act on (``taken_over`` if it was a dead
    request's); else ``first`` is the request that holds or held the key."""

    record: IdempotentResponse | None = None
    first: IdempotentResponse | None = None
    taken_over: bool = False


def claim(*, user: User, key: str, request_hash: str) -> Claim:
    """Claim ``key`` for ``user``: a new claim, a takeover of a stale one, or the first request."""
    for _ in range(3):  # the first request may release its key between our insert and our read
        try:
            with transaction.atomic():
                record = IdempotentResponse.objects.create(
                    user=user, key=key, request_hash=request_hash
                )
            return Claim(record=record)
        except IntegrityError:
            first = IdempotentResponse.objects.filter(user=user, key=key).first()
        if first is None:
            continue
        if first.request_hash != request_hash or first.status_code is not None:
            return Claim(first=first)
        taken = _take_over(first)
        if taken is not None:
            return Claim(record=taken, taken_over=True)
        first.refresh_from_db()  # another retry took it over, or the first just finished
        return Claim(first=first)
    raise RuntimeError("the Idempotency-Key was claimed and released repeatedly")


def _take_over(first: IdempotentResponse) -> IdempotentResponse | None:
    """The stale claim ``first`` made ours (one UPDATE that only one retry can win), or None."""
    now = clock.now()
    if now - first.created_at < stale_after():
        return None
    won = _still_ours(first).update(created_at=now)
    if won != 1:
        return None
    logger.warning(
        "idempotency key taken over",
        extra={
            "user_id": first.user_id,
            "record_id": first.pk,
            "claim_age_s": int((now - first.created_at).total_seconds()),
        },
    )
    first.created_at = now
    return first


def _still_ours(record: IdempotentResponse) -> QuerySet[IdempotentResponse]:
    """The claim ``record`` as long as no retry has taken it over and nothing was recorded."""
    return IdempotentResponse.objects.filter(
        pk=record.pk, created_at=record.created_at, status_code__isnull=True
    )


def record_response(record: IdempotentResponse, *, status_code: int, body: str) -> bool:
    """Store the response on our claim; False if a retry took the claim over meanwhile (the
    caller is inside the action's transaction and undoes it)."""
    return _still_ours(record).update(status_code=status_code, body=body) == 1


def release(record: IdempotentResponse) -> None:
    """Give the key back (a server error): a retry acts. Only while the claim is still ours."""
    _still_ours(record).delete()


def purge(*, now: datetime | None = None) -> int:
    """Delete the stored responses (and dead claims) older than ``ANAGEN_IDEMPOTENCY_KEEP_HOURS``:
    a retry sent later than that acts again. The number deleted."""
    cutoff = (now or clock.now()) - kept_for()
    deleted, _ = IdempotentResponse.objects.filter(created_at__lt=cutoff).delete()
    if deleted:
        logger.info("idempotent responses purged", extra={"rows": deleted})
    return deleted
