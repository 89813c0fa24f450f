"""``anagen evidence summarize``: change from baseline per window from a tidy outcome CSV.

The JSON printed with ``--json`` is a contract (see the design notes)::

    {"measure": ..., "groups": [{"group": ..., "timepoints": [{"window_day", "n",
      "n_missing", "mean_change", "ci_low", "ci_high", "median_change", "responder_rate",
      "responder_ci_low", "responder_ci_high", ...}, ...]}, ...]}

with one group ``all`` without ``--group-by``; a value that cannot be estimated (e.g. a CI
from one patient) is ``null``. Bad input exits with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from anagen.evidence.change import DEFAULT_RESPONDER_DELTA, ResponderRule, summarize_groups
from anagen.evidence.errors import OutcomeTableError
from anagen.evidence.table import DEFAULT_MEASURE, read_outcomes_csv
from anagen.evidence.windows import DEFAULT_WINDOWS, MAX_DEFAULT_TOLERANCE_DAYS


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``evidence`` sub-command to the ``anagen`` parser."""
    p = subparsers.add_parser("evidence", help="registry statistics on tidy outcome tables")
    sub = p.add_subparsers(dest="evidence_command", required=True)
    s = sub.add_parser(
        "summarize",
        help="change from baseline per visit window, with CIs and responder rates",
        description=(
            "Paired change from each patient's day-0 visit at each window. A visit counts "
            "for a window when it is the patient's visit nearest the window day within the "
            "tolerance; patients with a baseline but no such visit are counted in n_missing."
        ),
    )
    s.add_argument("outcomes", metavar="OUTCOMES.csv")
    s.add_argument("--json", action="store_true", help="print JSON (the contract)")
    s.add_argument("--measure", default=DEFAULT_MEASURE, help=f"default {DEFAULT_MEASURE}")
    s.add_argument(
        "--windows",
        default=",".join(str(w) for w in DEFAULT_WINDOWS),
        help="comma-separated window days (default %(default)s)",
    )
    s.add_argument(
        "--window-tolerance-days",
        type=float,
        default=None,
        help=f"days either side of each window (default min({MAX_DEFAULT_TOLERANCE_DAYS:g}, "
        "window/2))",
    )
    s.add_argument(
        "--responder-delta",
        type=float,
        default=None,
        help=f"responder: change >= this (default {DEFAULT_RESPONDER_DELTA:g} when neither "
        "responder option is given)",
    )
    s.add_argument(
        "--responder-percent", type=float, default=None, help="responder: change >= this %%"
    )
    s.add_argument("--group-by", metavar="COLUMN", help="one summary per value of COLUMN")
    s.add_argument("--confidence", type=float, default=0.95, help="default 0.95")
    s.set_defaults(func=cmd_summarize)


def _err(msg: str | Exception) -> None:
    print(f"anagen evidence: error: {' '.join(str(msg).split())}", file=sys.stderr)


def _windows(text: str) -> list[float]:
    try:
        days = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise OutcomeTableError(
            f"--windows: not a comma-separated list of days: {text!r}"
        ) from None
    if not days:
        raise OutcomeTableError("--windows: no window days given")
    return days


def _rule(args: argparse.Namespace) -> ResponderRule:
    if args.responder_delta is None and args.responder_percent is None:
        return ResponderRule(DEFAULT_RESPONDER_DELTA, None)
    return ResponderRule(args.responder_delta, args.responder_percent)


def summarize_csv(args: argparse.Namespace) -> dict[str, Any]:
    """The JSON document for ``summarize`` (raises :class:`OutcomeTableError`)."""
    if not 0 < args.confidence < 1:
        raise OutcomeTableError("--confidence must be between 0 and 1")
    windows = _windows(args.windows)
    rule = _rule(args)
    table = read_outcomes_csv(args.outcomes)
    groups = summarize_groups(
        table,
        args.measure,
        group_by=args.group_by,
        windows=windows,
        tolerance=args.window_tolerance_days,
        rule=rule,
        confidence=args.confidence,
    )
    return {
        "measure": args.measure,
        "window_tolerance_days": args.window_tolerance_days,
        "responder_rule": {"delta": rule.delta, "percent": rule.percent},
        "confidence": args.confidence,
        "group_by": args.group_by,
        "groups": [g.to_dict() for g in groups],
    }


def _fmt(v: Any, spec: str = ".1f") -> str:
    return "-" if v is None else format(v, spec)


def _print_table(doc: dict[str, Any]) -> None:
    print(f"measure: {doc['measure']}")
    for g in doc["groups"]:
        print(f"\ngroup {g['group']} ({g['n_with_baseline']} patients with a baseline)")
        print(
            f"{'day':>5} {'n':>5} {'miss':>5} {'mean chg':>9} {'95% CI':>17} "
            f"{'median':>8} {'resp %':>7} {'resp 95% CI':>13}"
        )
        for t in g["timepoints"]:
            rate = t["responder_rate"]
            print(
                f"{t['window_day']:>5} {t['n']:>5} {t['n_missing']:>5} "
                f"{_fmt(t['mean_change']):>9} "
                f"{_fmt(t['ci_low']):>8}..{_fmt(t['ci_high']):<7} "
                f"{_fmt(t['median_change']):>8} "
                f"{_fmt(None if rate is None else 100 * rate, '.0f'):>7} "
                f"{_fmt(t['responder_ci_low'], '.2f'):>6}..{_fmt(t['responder_ci_high'], '.2f')}"
            )


def cmd_summarize(args: argparse.Namespace) -> int:
    """Run ``anagen evidence summarize``; 0 on success, 2 on bad input."""
    try:
        doc = summarize_csv(args)
    except OutcomeTableError as exc:
        msg = str(exc)
        named = msg.startswith((str(args.outcomes), "--"))
        _err(msg if named else f"{args.outcomes}: {msg}")
        return 2
    if args.json:
        print(json.dumps(doc, indent=1, allow_nan=False))
    else:
        _print_table(doc)
    return 0
