"""A real Celery worker whose trichometry engine pauses first, so a test can act mid-analysis.

Run as ``python -m tests.clinic.imaging.slow_worker <celery worker args>``. Before each analysis
the worker writes a file into ``ANAGEN_TEST_STARTED_DIR`` (so the test knows the job is running
and has not written anything) and sleeps ``ANAGEN_TEST_ANALYSIS_PAUSE`` seconds; then the real
engine runs. Nothing else is changed: the job, the services and the settings are the project's.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from anagen import trichometry

_real_analyze = trichometry.analyze


def _paused_analyze(*args, **kwargs):
    started = Path(os.environ["ANAGEN_TEST_STARTED_DIR"])
    (started / f"{os.getpid()}-{time.monotonic_ns()}").write_text("started")
    time.sleep(float(os.environ.get("ANAGEN_TEST_ANALYSIS_PAUSE", "0")))
    return _real_analyze(*args, **kwargs)


trichometry.analyze = _paused_analyze

if __name__ == "__main__":
    from celery.__main__ import main

    sys.argv = ["celery", *sys.argv[1:]]
    sys.exit(main())
