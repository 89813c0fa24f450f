"""Benchmark of ``anagen.follicles``: run as ``.venv/bin/python -m bench.follicles``.

1. 100,000 follicles over 20 years (event-driven, vectorized), target <= 1 s on one core;
2. a 1,000-member forecast ensemble for a 1 cm2 site (two scenarios, 24 months), target <= 1 s;
3. the same model as a naive day-by-day Python loop on a smaller population, and the speed ratio
   per follicle-day.

The table is published into README.md (section ``bench:follicles``) and
``docs/benchmarks/follicles.md``. Timings are the best of several repeats (the machine is
shared, so single timings are noisy); the median is shown too.
"""

from __future__ import annotations

import os

# one core, as the target says (must be set before NumPy/SciPy load their BLAS)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from anagen.follicles import (  # noqa: E402
    calibrate,
    forecast,
    simulate,
    steady_state_fractions,
)
from anagen.follicles.figures import example_patient  # noqa: E402
from anagen.follicles.reference import naive_daily_simulation  # noqa: E402
from anagen.follicles.stochastic import DAYS_PER_YEAR  # noqa: E402


def _timed(fn, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), result


def run(repeats: int = 5) -> str:
    """Run the benchmark and return the markdown table."""
    rows = []
    # 1. population
    n, years = 100_000, 20.0
    best, med, ts = _timed(lambda: simulate(n, years, seed=1, step="monthly"), repeats)
    fd = n * years * DAYS_PER_YEAR
    rows.append(
        ("100,000 follicles x 20 years (normal scalp, monthly output)", best, med, 1.0, fd / best)
    )
    best_aga, med_aga, _ = _timed(
        lambda: simulate(n, years, seed=1, severity=0.7, aga_onset_years=0.0, step="daily"),
        repeats,
    )
    rows.append(
        ("100,000 follicles x 20 years (AGA, daily output)", best_aga, med_aga, 1.0, fd / best_aga)
    )
    anagen = float(np.nanmean(ts.anagen_fraction[0]))
    shed = float(np.nanmean(ts.shed_per_day_per_100k()[0][1:]))
    # 2. forecast ensemble
    visits, sessions = example_patient(0)
    t0 = time.perf_counter()
    cal = calibrate(visits, session_days=sessions, zone="vertex", years_since_onset=6.0)
    t_cal = time.perf_counter() - t0
    best_fc, med_fc, fc = _timed(lambda: forecast(cal, members=1000, seed=1), repeats)
    n_site = round(cal.follicles_per_cm2)
    # 3. naive reference
    n_ref, days_ref = 500, 2 * 365
    best_ref, med_ref, _ = _timed(
        lambda: naive_daily_simulation(n_ref, days_ref, seed=1, severity=0.7, onset_day=0),
        max(1, repeats // 2),
    )
    per_fd_ref = best_ref / (n_ref * days_ref)
    per_fd_fast = best_aga / fd
    ratio = per_fd_ref / per_fd_fast
    det = steady_state_fractions()

    def ok(t, target):
        return "yes" if t <= target else "**no**"

    lines = [
        "Follicle model benchmark (`.venv/bin/python -m bench.follicles`; "
        f"Python {platform.python_version()}, NumPy {np.__version__}, {os.cpu_count()} cores "
        f"shared, BLAS 1 thread; best of {repeats}).",
        "",
        "| workload | best (s) | median (s) | target (s) | meets target | throughput |",
        "|---|---:|---:|---:|:---:|---:|",
    ]
    for name, b, m, target, rate in rows:
        lines.append(
            f"| {name} | {b:.3f} | {m:.3f} | {target:g} | {ok(b, target)} | "
            f"{rate / 1e9:.2f} G follicle-days/s |"
        )
    lines.append(
        f"| forecast: 1,000 members x 1 cm2 site (~{n_site} follicles), 6 y history + 24 months, "
        f"2 scenarios | {best_fc:.3f} | {med_fc:.3f} | 1 | {ok(best_fc, 1.0)} | "
        f"{fc.members} members |"
    )
    lines.append(
        f"| calibration (21 x 21 mean-field grid, 6 visits) | {t_cal:.3f} | - | - | - | - |"
    )
    lines.append(
        f"| naive day-by-day Python loop, {n_ref} follicles x {days_ref} days (AGA) | "
        f"{best_ref:.3f} | {med_ref:.3f} | - | - | "
        f"{1 / per_fd_ref / 1e6:.2f} M follicle-days/s |"
    )
    lines += [
        "",
        f"Speed ratio per follicle-day, event-driven vs naive loop: **{ratio:,.0f}x** "
        f"({per_fd_fast * 1e9:.2f} ns vs {per_fd_ref * 1e9:.0f} ns).",
        "",
        "Literature checks from the same run (100,000 follicles, 20 years, normal scalp):",
        "",
        "| quantity | model (stochastic) | model (deterministic) | literature |",
        "|---|---:|---:|---:|",
        f"| hairs present in anagen | {100 * anagen:.1f} % | "
        f"{100 * det['anagen_of_hairs']:.1f} % | 85-90 % |",
        f"| hairs shed per day per 100,000 follicles | {shed:.1f} | "
        f"{det['shed_per_day_per_100k']:.1f} | 40-100 |",
    ]
    return "\n".join(lines)


def main() -> None:
    """Run, print and publish the benchmark table."""
    from bench.readme import publish

    markdown = run()
    print(markdown)
    publish("follicles", markdown)


if __name__ == "__main__":
    main()
