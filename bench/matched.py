"""Matched follow-up benchmark: hair-to-hair change against the difference of two counts.

On a fixed set of baseline/follow-up phantom pairs of one site (``anagen.phantoms.followup``:
the camera moved by up to 40 px and 3 degrees, 10 % of the hairs lost, 12 % of the follicles
with a new hair, every hair clipped again, the follow-up with its own exposure, blur, noise
and JPEG) it measures, in the same run:

* the matched method (:func:`anagen.trichometry.matched_change`): |error of the count change|
  and |error of lost + new| in the common field, against the exact truth by the same rule,
  as % of the true baseline count in that field; registration error against the true camera
  move and the method's own residual;
* the difference of two independent analyses (:func:`anagen.trichometry.analyze` on each
  image, counting-frame counts): |error of the count change| as % of the true baseline count;
* the single-image count error (the baseline's independent analysis) and both change errors
  per skin tone (plain light/medium/dark, and skin of colour tan/deep with pigment network
  and white dots);
* time: matched change of a pair (both analyses included) against one analysis; and, as an
  extra figure, the pair when the baseline's analysis is already stored (as in the clinic).

Run ``python -m bench.matched`` (full set) or ``--quick``; the table goes into README.md and
docs/benchmarks/matched.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import multiprocessing as mp
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np

from anagen.phantoms import FollowUpChange, PhantomSpec, render_followup
from anagen.phantoms.followup import true_change
from anagen.trichometry import ALGORITHM_VERSION, analyze, matched_change
from anagen.trichometry.change import CHANGE_VERSION, ChangeError

TONES = ("light", "medium", "dark", "tan", "deep")
TARGETS = {
    "matched_change_pct": 1.0,
    "lost_new_pct": 4.0,
    "residual_px": 2.0,
    "time_ratio": 2.0,
    "dark_vs_light": 1.5,
}


def condition(i: int, width: int, height: int) -> PhantomSpec:
    """Deterministic spread of sites and baseline optics for pair ``i``.

    Skin tones cycle so every tone has the same number of pairs; half the sites have
    crossings and 2-3-hair follicular units.
    """
    rng = np.random.default_rng([20261, i])
    complex_scene = bool(i % 2)
    tone = TONES[(i // 2) % len(TONES)]
    colour = str(rng.choice(["black", "brown", "blond", "grey"]))
    if tone == "deep" and colour == "brown":
        # the phantoms' mid-brown hair is within ~10 grey levels of deep skin (weaker than its
        # pigment network); such hair is measured apart (``brown_on_deep``), not in the tones
        colour = "black"
    return PhantomSpec(
        width=width,
        height=height,
        um_per_px=float(rng.choice([5.0, 6.0, 7.0])),
        density_per_cm2=float(rng.choice([100, 150, 200, 250])),
        vellus_fraction=float(rng.choice([0.1, 0.2, 0.35])),
        hair_colour=colour,
        skin_tone=tone,
        crossings=complex_scene,
        units=complex_scene,
        blur_sigma_px=float(rng.choice([0.5, 1.0, 1.5])),
        noise_sigma=float(rng.choice([2.0, 4.0, 6.0])),
        jpeg_quality=[None, 90, 75][int(rng.integers(0, 3))],
        seed=30_000 + i,
    )


@dataclass(frozen=True)
class PairRow:
    """Measurements of one pair (errors in % of the true baseline count of their field)."""

    tone: str
    complex_scene: bool
    matched_change_pct: float
    lost_new_pct: float
    independent_change_pct: float
    single_count_pct: float
    registration_error_px: float
    residual_px: float
    seconds_pair: float
    seconds_one: float
    seconds_matching: float = float("nan")
    seconds_known_baseline: float = float("nan")  # the pair with the baseline's analysis given
    refused: str = ""  # why the matched method refused the pair ("" = measured)


def _true_matrix(spec: PhantomSpec, transform: tuple[float, float, float]) -> np.ndarray:
    dx, dy, rot = transform
    a = np.radians(rot)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    c = np.array([spec.width / 2.0, spec.height / 2.0])
    return np.hstack([r, (c - r @ c + np.array([dx, dy]))[:, None]])


def measure(args: tuple[int, int, int]) -> PairRow:
    """Render pair ``i`` and measure both methods on it."""
    import cv2

    cv2.setNumThreads(1)
    i, width, height = args
    spec = (
        brown_on_deep(i - 1_000_000, width, height)
        if i >= 1_000_000
        else condition(i, width, height)
    )
    pair = render_followup(spec, FollowUpChange())
    um = spec.um_per_px
    t0 = time.perf_counter()
    one = analyze(pair.baseline, um)
    t1 = time.perf_counter()
    try:
        res = matched_change(pair.baseline, pair.followup, um)
    except ChangeError as exc:
        tb = pair.truth_baseline.hair_count
        return PairRow(
            tone=spec.skin_tone,
            complex_scene=spec.crossings,
            matched_change_pct=float("nan"),
            lost_new_pct=float("nan"),
            independent_change_pct=float("nan"),
            single_count_pct=100.0 * abs(one.hair_count - tb) / max(tb, 1),
            registration_error_px=float("nan"),
            residual_px=float("nan"),
            seconds_pair=float("nan"),
            seconds_one=t1 - t0,
            refused=(
                f"{'brown-on-deep pair' if i >= 1_000_000 else 'pair'} {i % 1_000_000}: "
                f"{str(exc).split(': ', 1)[-1]}"
            ),
        )
    t2 = time.perf_counter()
    # as in the clinic: the baseline was analysed (and stored) at its own visit
    matched_change(pair.baseline, pair.followup, um, analyses=(one, None))
    t3 = time.perf_counter()
    truth = true_change(pair, np.array(res.field_polygon))
    base_n = max(truth.baseline_count, 1)
    tb, tf = pair.truth_baseline.hair_count, pair.truth_followup.hair_count
    independent = (res.followup.hair_count - res.baseline.hair_count) - (tf - tb)
    m = _true_matrix(spec, pair.transform)
    corners = np.array(
        [[0, 0], [width, 0], [0, height], [width, height], [width / 2, height / 2]], float
    )
    want = corners @ m[:, :2].T + m[:, 2]
    reg_err = float(
        np.sqrt(np.mean(np.sum((res.registration.forward(corners) - want) ** 2, axis=1)))
    )
    return PairRow(
        tone=spec.skin_tone,
        complex_scene=spec.crossings,
        matched_change_pct=100.0 * abs(res.count_change - truth.count_change) / base_n,
        lost_new_pct=100.0 * abs((res.lost + res.new) - (truth.lost + truth.new)) / base_n,
        independent_change_pct=100.0 * abs(independent) / max(tb, 1),
        single_count_pct=100.0 * abs(one.hair_count - tb) / max(tb, 1),
        registration_error_px=reg_err,
        residual_px=res.registration.residual_px,
        seconds_pair=t2 - t1,
        seconds_one=t1 - t0,
        seconds_matching=res.timings_ms["registration_and_matching"] / 1e3,
        seconds_known_baseline=t3 - t2,
    )


def brown_on_deep(i: int, width: int, height: int) -> PhantomSpec:
    """Pair ``i`` of the separate set: mid-brown hair on deep skin (the hardest contrast)."""
    from dataclasses import replace

    return replace(condition(8, width, height), hair_colour="brown", seed=31_000 + i)


def run_rows(n: int, width: int, height: int, workers: int, first: int = 0) -> list[PairRow]:
    """Measure pairs ``first .. first+n-1`` (in ``workers`` processes); indices from 1,000,000
    are the separate brown-on-deep set."""
    jobs = [(i, width, height) for i in range(first, first + n)]
    if workers <= 1:
        return [measure(j) for j in jobs]
    with mp.get_context("spawn").Pool(workers) as pool:
        return list(pool.imap(measure, jobs))


def summary(rows: list[PairRow]) -> dict[str, float]:
    """The benchmark's headline numbers."""

    def mean(xs: list[float]) -> float:
        return float(statistics.fmean(xs)) if xs else float("nan")

    every = rows
    light_all = [r for r in every if r.tone == "light"]
    dark_all = [r for r in every if r.tone in ("dark", "deep")]
    rows = [r for r in every if not r.refused]
    light = [r for r in rows if r.tone == "light"]
    darkish = [r for r in rows if r.tone in ("dark", "deep")]
    ratio = statistics.median(r.seconds_pair for r in rows) / statistics.median(
        r.seconds_one for r in rows
    )
    return {
        "matched_change_pct": mean([r.matched_change_pct for r in rows]),
        "independent_change_pct": mean([r.independent_change_pct for r in rows]),
        "lost_new_pct": mean([r.lost_new_pct for r in rows]),
        "registration_error_px": mean([r.registration_error_px for r in rows]),
        "registration_error_max_px": max(r.registration_error_px for r in rows),
        "residual_px": mean([r.residual_px for r in rows]),
        "time_ratio": ratio,
        "matching_share": statistics.median(r.seconds_matching for r in rows)
        / statistics.median(r.seconds_one for r in rows),
        "known_baseline_ratio": statistics.median(r.seconds_known_baseline for r in rows)
        / statistics.median(r.seconds_one for r in rows),
        "refused": float(len(every) - len(rows)),
        "single_light_pct": mean([r.single_count_pct for r in light_all]),
        "single_dark_pct": mean([r.single_count_pct for r in dark_all]),
        "matched_light_pct": mean([r.matched_change_pct for r in light]),
        "matched_dark_pct": mean([r.matched_change_pct for r in darkish]),
    }


def _f(x: float, nd: int = 2) -> str:
    return "n/a" if x != x else f"{x:.{nd}f}"


def table(
    rows: list[PairRow],
    width: int,
    height: int,
    quick: bool,
    extra: list[PairRow] | None = None,
) -> str:
    """Markdown table of a run (``extra``: the brown-on-deep set, shown apart)."""
    s = summary(rows)
    t = TARGETS

    def yes(ok: bool) -> str:
        return "yes" if ok else "**no**"

    floor = 0.5  # a ratio of two errors below half a percent is noise, not a skin-tone effect
    dark_single = s["single_dark_pct"] / max(s["single_light_pct"], floor)
    dark_matched = s["matched_dark_pct"] / max(s["matched_light_pct"], floor)
    lines = [
        f"Matched follow-up benchmark ({'quick' if quick else 'full'} set, "
        f"`{ALGORITHM_VERSION}+{CHANGE_VERSION}`; `.venv/bin/python -m bench.matched`): "
        f"{len(rows)} baseline/follow-up phantom pairs of one site, {width}x{height} px at "
        "5-7 um/px, half with crossings and 2-3-hair follicular units; 100-250 hairs/cm2; "
        "black/brown/blond/grey hair on light/medium/dark skin and on skin of colour "
        "(tan, deep: honeycomb pigment network and pinpoint white dots); follow-up moved by "
        "up to 40 px and 3 degrees, 10 % of hairs lost, 12 % of follicles with a new hair, every "
        "hair clipped again at a new length, its own exposure (0.85-1.15), blur, noise and "
        "JPEG. Errors are in % of the true baseline count (matched: of the common field; "
        "independent: of the counting frame).",
        "",
        "| metric | matched (hair to hair) | difference of two independent analyses | target |",
        "|---|---|---|---|",
        f"| mean abs error of the count change (% of baseline) | "
        f"{_f(s['matched_change_pct'])} | {_f(s['independent_change_pct'])} | "
        f"matched <= {t['matched_change_pct']:g} "
        f"({yes(s['matched_change_pct'] <= t['matched_change_pct'])}) |",
        f"| mean abs error of lost + new (% of baseline) | {_f(s['lost_new_pct'])} | n/a | "
        f"<= {t['lost_new_pct']:g} ({yes(s['lost_new_pct'] <= t['lost_new_pct'])}) |",
        f"| registration error vs the true move, mean / max (px) | "
        f"{_f(s['registration_error_px'])} / {_f(s['registration_error_max_px'])} | n/a | |",
        f"| registration residual, mean (px) | {_f(s['residual_px'])} | n/a | "
        f"<= {t['residual_px']:g} ({yes(s['residual_px'] <= t['residual_px'])}) |",
        f"| pairs the matched method refused (could not register) | {int(s['refused'])} "
        f"of {len(rows)} | n/a | |",
        f"| time per pair / time of one analysis (medians) | {_f(s['time_ratio'])} | "
        f"2 analyses | <= {t['time_ratio']:g} ({yes(s['time_ratio'] <= t['time_ratio'])}) |",
        f"| registration + matching alone / one analysis (medians) | "
        f"{_f(s['matching_share'])} | 0 | |",
        f"| time per pair with the baseline already analysed (as in the clinic) / one "
        f"analysis (medians; extra figure, not the target's) | "
        f"{_f(s['known_baseline_ratio'])} | 1 analysis | |",
        "",
        "Per skin tone (mean abs error, % of the true baseline count):",
        "",
        "| skin tone | pairs | single image count | matched change | independent change |",
        "|---|---:|---:|---:|---:|",
    ]
    for tone in TONES:
        rs = [r for r in rows if r.tone == tone]
        ok = [r for r in rs if not r.refused]
        if not rs:
            continue
        refused = len(rs) - len(ok)
        lines.append(
            f"| {tone} | {len(rs)}{f' ({refused} refused)' if refused else ''} | "
            f"{_f(statistics.fmean(r.single_count_pct for r in rs))} | "
            f"{_f(statistics.fmean(r.matched_change_pct for r in ok) if ok else float('nan'))} | "
            f"{_f(statistics.fmean(r.independent_change_pct for r in ok) if ok else float('nan'))} |"
        )
    lines += [
        "",
        f"Dark skin (dark + deep) against light skin: single image "
        f"{_f(dark_single)}x, matched change {_f(dark_matched)}x (target <= "
        f"{t['dark_vs_light']:g}x: {yes(dark_single <= t['dark_vs_light'])} / "
        f"{yes(dark_matched <= t['dark_vs_light'])}; errors below {floor} % count as {floor} %).",
    ]
    if extra:
        ok = [r for r in extra if not r.refused]
        lines += [
            "",
            f"Mid-brown hair on deep skin, measured apart ({len(extra)} pairs, "
            f"{len(extra) - len(ok)} refused): single image "
            f"{_f(statistics.fmean(r.single_count_pct for r in extra))} %, matched change "
            f"{_f(statistics.fmean(r.matched_change_pct for r in ok) if ok else float('nan'))} %, "
            f"independent change "
            f"{_f(statistics.fmean(r.independent_change_pct for r in ok) if ok else float('nan'))}"
            " %. The phantoms' mid-brown shaft is within about 10 grey levels of deep skin, "
            "fainter than the pigment network's lines; the engine misses many of these hairs "
            "(a known limitation, see docs/trichometry.md).",
        ]
    refusals = [r.refused for r in [*rows, *(extra or [])] if r.refused]
    if refusals:
        lines += [
            "",
            "Refused pairs (excluded from the matched and independent columns): "
            + "; ".join(refusals)
            + ".",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="10 small pairs")
    ap.add_argument("--pairs", type=int, default=None)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-publish", action="store_true")
    args = ap.parse_args(argv)
    n = args.pairs or (10 if args.quick else 60)
    width, height = (960, 720) if args.quick else (1632, 1224)
    rows = run_rows(n, width, height, args.workers)
    extra = run_rows(n // 10 or 1, width, height, args.workers, first=1_000_000)
    for r in [*rows, *extra]:
        print(r, file=sys.stderr)
    md = table(rows, width, height, args.quick, extra)
    print(md)
    if not args.no_publish and not args.quick:
        from bench.readme import publish

        publish("matched", md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
