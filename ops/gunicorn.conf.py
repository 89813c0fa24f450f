"""gunicorn settings of `make prod` (ops/prod.sh passes bind, workers, pid and log files).

The access log records method, path, status, size and time, never the query string: search
terms and filters (patient names, MRNs, dates of birth) stay out of the log even if a page puts
them in a URL. The client address is the one the proxy gave (X-Forwarded-For is not logged).
"""

import os

wsgi_app = "anagen.clinic.wsgi:application"
worker_class = "gthread"
threads = 2
timeout = 60
graceful_timeout = 20
keepalive = 5
# Restart a worker after this many requests (with jitter): bounds memory growth. The load
# benchmark's soak sets ANAGEN_GUNICORN_MAX_REQUESTS=0 (never), so a leak shows instead of being
# recycled away.
max_requests = int(os.environ.get("ANAGEN_GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200 if max_requests else 0
# %(U)s is the path without the query string (%(r)s would include it).
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
# Request line and headers: bounded; bodies are bounded by ANAGEN_MAX_REQUEST_BYTES (413).
limit_request_line = 8190
limit_request_fields = 100
