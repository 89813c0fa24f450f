"""The server-error page: a lost database connection gets its own page (503), in clinic words.

Django calls ``handler500`` inside the ``except`` block that caught the exception, so the
exception is still at hand. A dropped or refused database connection (a restart, a failover,
a network cut, a terminated backend) is an outage the staff can wait out, not a bug: the page
says so, and that what they were saving was not saved (the service's transaction rolled back in
the database: one transaction per write, nothing half-written). Rendered with an empty context
(no database, no context processors), like 500.html.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views import defaults

#: Seconds a browser or proxy is told to wait before trying again.
RETRY_AFTER_SECONDS = 30


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)):
        return HttpResponse(
            render_to_string("503.html"),
            status=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
        )
    return defaults.server_error(request)
