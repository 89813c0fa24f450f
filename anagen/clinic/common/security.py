"""Request-level safeguards: body size before parsing, no caching of clinical pages, idle logout.

All three are plain middleware in ``settings.MIDDLEWARE`` (base settings, so the local server and
the tests behave as production does).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseBase

Handler = Callable[[HttpRequest], HttpResponseBase]


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body is larger than ``ANAGEN_MAX_REQUEST_BYTES`` with 413.

    Runs first and looks only at ``Content-Length``: the body is never read, so an oversized
    upload is refused before any of it is received or parsed (the upload validators then check
    what is let through, file by file).
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        limit = int(settings.ANAGEN_MAX_REQUEST_BYTES)
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            size = int(declared)
        except ValueError:
            return HttpResponse(
                "The request's declared size is not a number.",
                status=400,
                content_type="text/plain",
            )
        if size > limit:
            # No "Connection: close" here: WSGI forbids hop-by-hop headers from the application
            # (Django's own server answered 500); the server closes a connection whose body
            # was left unread.
            return HttpResponse(
                f"This upload is too large: at most {limit // (1024 * 1024)} MB may be sent at once.",
                status=413,
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every page and file the application itself serves.

    Charts, PDFs, images and CSV exports carry patient data: neither the browser nor any proxy
    may keep a copy. Static files (served by WhiteNoise before this middleware runs) keep their
    own long-lived caching.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response


#: Session key holding the time (epoch seconds) of the user's last request.
SEEN_KEY = "anagen_last_seen"


class IdleTimeoutMiddleware:
    """Sign a member of staff out after ``ANAGEN_IDLE_TIMEOUT_MINUTES`` without a request.

    The time of the last request is written to the session at most once a minute, so an active
    user does not cost a session write per request.
    """

    REFRESH_SECONDS = 60

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            seen = request.session.get(SEEN_KEY)
            idle = int(settings.ANAGEN_IDLE_TIMEOUT_MINUTES) * 60
            if isinstance(seen, int) and now - seen > idle:
                logout(request)  # the next guarded page sends them to the login page
            elif not isinstance(seen, int) or now - seen >= self.REFRESH_SECONDS:
                request.session[SEEN_KEY] = now
        return self.get_response(request)
