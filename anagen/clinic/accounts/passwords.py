"""Password prompts inside the clinic (a verifier's password, a signature) share the login lockout.

A prompt that asks a member of staff's password again is as good a place to guess it as the
login page, so every prompt goes through ``password_confirm``: it refuses while django-axes has
the user locked out, and counts a wrong password as a failed login of that user (the
``user_login_failed`` signal axes listens to). Five wrong prompts therefore lock the account for
prompts and logins alike, for ``AXES_COOLOFF_TIME``.

Which client the failure is counted against. Axes locks by (username, IP address)
(``AXES_LOCKOUT_PARAMETERS``), so a stranger elsewhere cannot lock a colleague out by typing
their e-mail at the login page. A prompt counts against the IP address of the request that
called the service (allauth's ``AccountMiddleware`` keeps it for the duration of each request):
a wrong verifier password typed at a workstation counts exactly like a wrong login from that
workstation, and locks that user's logins from there too. We deliberately do not add
``"username"`` alone to the lockout parameters: that would let anyone lock any account from
anywhere (denial of service in a clinic where a physician must sign in to treat). A service
called without a request (tests, scripts, the demo loader) counts against the user with no IP
address: further prompts for that user are refused after five failures; logins are not.

Counting survives the service's transaction. Write services are ``transaction.atomic``, and a
refused prompt rolls the service back, which would roll back the axes row written inside it.
So inside a transaction the failure is only noted on the exception, and ``counts_password_failures``
(put outside ``transaction.atomic`` on every service that prompts) writes it after the rollback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

if TYPE_CHECKING:
    from .models import User

_P = ParamSpec("_P")
_R = TypeVar("_R")


class PasswordNotConfirmed(ValidationError):
    """A prompt refused: wrong password or the user is locked out. Counted by axes."""

    def __init__(
        self, message: str | dict[str, str], *, user: User, request: HttpRequest, counted: bool
    ) -> None:
        super().__init__(message)
        self.user = user
        self.probe = request
        self.counted = counted


def _credentials(user: User) -> dict[str, str]:
    # The same login name axes uses for allauth logins (``lockout.login_name``): the e-mail.
    return {"username": user.email}


def _probe(request: HttpRequest | None) -> HttpRequest:
    """A request for axes with the client's address and agent, but no GET or POST data.

    Axes stores GET/POST of failures; a prompt's form carries the typed password under names
    that ``AXES_SENSITIVE_PARAMETERS`` does not mask, so those are never handed over. A fresh
    object also keeps axes from marking the real request, whose response would then be replaced
    by the lockout page in front of the colleague who asked for the signature.
    """
    if request is None:
        from allauth.core import context

        request = context.request
    probe = HttpRequest()
    if request is not None:
        probe.META = dict(request.META)
        probe.path = probe.path_info = request.path_info
    return probe


def _count(error: PasswordNotConfirmed) -> None:
    if error.counted:
        return
    user_login_failed.send(
        sender=__name__, credentials=_credentials(error.user), request=error.probe
    )
    error.counted = True


def is_locked_out(user: User, *, request: HttpRequest | None = None) -> bool:
    from axes.handlers.proxy import AxesProxyHandler

    locked: bool = AxesProxyHandler.is_locked(_probe(request), _credentials(user))  # axes: untyped
    return locked


def password_confirm(
    user: User,
    password: str | None,
    *,
    purpose: str,
    field: str = "password",
    request: HttpRequest | None = None,
) -> None:
    """Refuse (``PasswordNotConfirmed`` on ``field``) unless ``password`` is ``user``'s own.

    ``purpose`` names the prompt in the message ("the verification", "the signature").
    """
    probe = _probe(request)
    from axes.handlers.proxy import AxesProxyHandler

    if AxesProxyHandler.is_locked(probe, _credentials(user)):
        # Not counted again: a locked account stays locked until the cool-off ends.
        raise PasswordNotConfirmed(
            {
                field: f"Too many wrong passwords for {user.display_name}: the account is locked "
                f"for a while, {purpose} was not applied."
            },
            user=user,
            request=probe,
            counted=True,
        )
    if password and user.check_password(password):
        return
    error = PasswordNotConfirmed(
        {field: f"The password does not match: {purpose} was not applied."},
        user=user,
        request=probe,
        counted=False,
    )
    if not transaction.get_connection().in_atomic_block:
        _count(error)
    raise error


def _refusal_in(error: BaseException | None) -> PasswordNotConfirmed | None:
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, PasswordNotConfirmed):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def counts_password_failures(service: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorate a service that prompts for a password, above its ``transaction.atomic``."""

    @functools.wraps(service)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return service(*args, **kwargs)
        except ValidationError as error:
            refusal = _refusal_in(error)
            if refusal is not None:
                _count(refusal)
            raise

    return wrapper
