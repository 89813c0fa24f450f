"""``anagen follicles`` sub-command (DESIGN.md section 5).

``anagen follicles simulate --follicles N --years Y --seed S [--aga-onset-years A] [--zone Z]
[--severity X] [--step monthly|daily|yearly] [--json]`` prints a time series of the anagen
fraction, visible density and hairs shed per day; ``anagen follicles figures --out DIR``
regenerates the figures; ``anagen follicles cohort --patients N --seed S`` prints a synthetic
cohort as JSON. Every output is labelled as model output.
"""

from __future__ import annotations

import argparse
import json
import sys

from .params import MODEL_LABEL, ZONES

#: follicle-years above which ``simulate`` shows a progress bar (on a terminal)
_PROGRESS_THRESHOLD = 2_000_000


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``follicles`` sub-parser to the ``anagen`` command line."""
    p = subparsers.add_parser(
        "follicles",
        help="stochastic hair-follicle model: simulate, figures, synthetic cohort",
        description="Stochastic follicular automaton (Halloy et al. 2000/2002). " + MODEL_LABEL,
    )
    sub = p.add_subparsers(dest="follicles_command", required=True)

    s = sub.add_parser("simulate", help="simulate a follicle population and print a time series")
    s.add_argument("--follicles", type=int, required=True, help="number of follicles")
    s.add_argument("--years", type=float, required=True, help="simulated years")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument(
        "--aga-onset-years",
        type=float,
        default=None,
        help="years after the start when androgenetic alopecia begins",
    )
    s.add_argument(
        "--severity",
        type=float,
        default=0.7,
        help="AGA severity 0-1 when --aga-onset-years is given (default 0.7)",
    )
    s.add_argument("--zone", default="vertex", help=f"scalp zone: {', '.join(ZONES)}")
    s.add_argument(
        "--step",
        default="monthly",
        choices=["monthly", "daily", "yearly"],
        help="output step (default monthly)",
    )
    s.add_argument("--json", action="store_true", help="print JSON instead of a table")
    s.set_defaults(func=_simulate)

    f = sub.add_parser("figures", help="regenerate the follicle figures (PNG)")
    f.add_argument("--out", default="docs/figures", help="output directory")
    f.add_argument("--seed", type=int, default=0)
    f.set_defaults(func=_figures)

    c = sub.add_parser("cohort", help="print a synthetic cohort with hair lists (JSON)")
    c.add_argument("--patients", type=int, default=10)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument(
        "--visits",
        default="0,14,30,60,90,180,365",
        help="comma-separated visit days (default 0,14,30,60,90,180,365)",
    )
    c.set_defaults(func=_cohort)


def _error(msg: str) -> int:
    print(f"anagen follicles: error: {msg}", file=sys.stderr)
    return 2


def _simulate(args: argparse.Namespace) -> int:
    from .stochastic import simulate

    if args.zone not in ZONES:
        return _error(f"unknown scalp zone {args.zone!r}; expected one of {', '.join(ZONES)}")
    progress = args.follicles * max(args.years, 0) >= _PROGRESS_THRESHOLD and sys.stderr.isatty()
    try:
        ts = simulate(
            args.follicles,
            args.years,
            args.seed,
            zone=args.zone,
            severity=args.severity,
            aga_onset_years=args.aga_onset_years,
            step=args.step,
            progress=progress,
        )
    except ValueError as exc:
        return _error(str(exc))
    rows = ts.rows(0)
    if args.json:
        doc = {
            "label": MODEL_LABEL,
            "follicles": args.follicles,
            "years": args.years,
            "seed": args.seed,
            "zone": args.zone,
            "aga_onset_years": args.aga_onset_years,
            "severity": args.severity if args.aga_onset_years is not None else 0.0,
            "step": args.step,
            "area_cm2": float(ts.area_cm2),
            "vellus_threshold_um": ts.vellus_threshold_um,
            "series": rows,
        }
        json.dump(doc, sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(f"# {MODEL_LABEL}")
    print(
        f"# {args.follicles} follicles ({float(ts.area_cm2):g} cm2), zone {args.zone}, seed "
        f"{args.seed}"
        + (
            f", AGA onset year {args.aga_onset_years:g} severity {args.severity:g}"
            if args.aga_onset_years is not None
            else ", normal scalp"
        )
    )
    print(
        f"{'day':>8} {'year':>6} {'anagen%':>8} {'visible/cm2':>12} {'terminal/cm2':>13} "
        f"{'diam_um':>8} {'shed/day':>9}"
    )

    def fmt(v: float | None, spec: str) -> str:
        return format(v, spec) if v is not None else "-".rjust(int(spec.split(".")[0]))

    for r in rows:
        af = None if r["anagen_fraction"] is None else 100 * r["anagen_fraction"]
        print(
            f"{r['day']:8.0f} {r['year']:6.2f} {fmt(af, '8.2f')} "
            f"{fmt(r['visible_density_per_cm2'], '12.1f')} "
            f"{fmt(r['terminal_density_per_cm2'], '13.1f')} {fmt(r['mean_diameter_um'], '8.1f')} "
            f"{fmt(r['shed_per_day'], '9.2f')}"
        )
    return 0


def _figures(args: argparse.Namespace) -> int:
    from .figures import make_figures

    paths = make_figures(args.out, seed=args.seed, progress=True)
    for p in paths:
        print(p)
    return 0


def _cohort(args: argparse.Namespace) -> int:
    from .cohort import generate_cohort

    try:
        visits = [float(v) for v in args.visits.split(",") if v.strip()]
        patients = generate_cohort(args.seed, args.patients, visit_days=visits)
    except ValueError as exc:
        return _error(str(exc))
    json.dump({"label": MODEL_LABEL, "patients": [p.to_dict() for p in patients]}, sys.stdout)
    sys.stdout.write("\n")
    return 0
