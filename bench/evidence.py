"""Closed-loop validation of the clinic's statistics: do its 95 % intervals cover the truth?

Synthetic cohorts with a known true effect from the follicle model (``anagen.follicles``) are
rendered into trichoscopy phantoms at each visit (``anagen.phantoms``), measured by the real
trichometry engine (``anagen.trichometry.analyze``) and analysed by ``anagen.evidence``
(``summarize_change``: mean change from baseline with its paired t 95 % CI). The pipeline lives
in ``anagen/evidence/closed_loop.py``; its docstring defines the true effect.

Run ``python -m bench.evidence`` (212 replications: the coverage's standard error is <= 1.5
points; 12 minutes on 2 shared cores in the published run) or
``python -m bench.evidence --quick`` (24 replications, not published unless ``--publish``). The table goes into README.md (section
``bench:evidence``) and docs/benchmarks/evidence.md, the figure into
docs/figures/evidence_coverage.png.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

from tqdm import tqdm  # noqa: E402

from anagen.evidence.closed_loop import (  # noqa: E402
    ClosedLoopConfig,
    ClosedLoopResult,
    run_closed_loop,
    true_density_change,
)

ROOT = Path(__file__).resolve().parent.parent
FIGURE = ROOT / "docs" / "figures" / "evidence_coverage.png"
FIGURE_REPS = 50
COMMAND = "python -m bench.evidence"


def figure(result: ClosedLoopResult, path: Path = FIGURE) -> Path:
    """Estimates with their 95 % CIs (first 50 replications, sorted) against the truth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    truths = result.truth
    fig, axes = plt.subplots(
        1, len(truths), figsize=(max(8.0, 5.2 * len(truths)), 5.0), sharey=True, squeeze=False
    )
    summary = {s.window_day: s for s in result.summary()}
    for ax, truth in zip(axes[0], truths, strict=True):
        est = sorted(result.estimates(truth.window_day)[:FIGURE_REPS], key=lambda e: e.mean_change)
        for i, e in enumerate(est):
            hit = e.ci_low <= truth.mean <= e.ci_high
            colour = "#1f77b4" if hit else "#d62728"
            ax.plot([i, i], [e.ci_low, e.ci_high], color=colour, lw=1.4)
            ax.plot(i, e.mean_change, "o", color=colour, ms=3)
        ax.axhline(truth.mean, color="black", lw=1.2, label=f"true mean change {truth.mean:.1f}")
        ax.axhline(0.0, color="grey", lw=0.6, ls=":")
        s = summary[truth.window_day]
        ax.set_title(
            f"day {truth.window_day}: coverage {100 * s.coverage:.1f} % "
            f"over {s.replications} replications",
            fontsize=10,
        )
        ax.set_xlabel(f"replication (first {len(est)}, sorted by estimate)")
        ax.legend(loc="upper left", fontsize=8, frameon=False)
    axes[0][0].set_ylabel("mean change in density from baseline (hairs/cm²)\nwith paired t 95 % CI")
    fig.suptitle(
        "Closed loop: follicle model → phantoms → trichometry engine → paired t CI\n"
        f"{result.config.n_patients} patients per cohort; red: the CI misses the truth",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _f(x: float, nd: int = 1) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.{nd}f}"


def table(result: ClosedLoopResult, quick: bool, figure_path: str) -> str:
    """Markdown of the benchmark (``figure_path`` relative to where the markdown is read)."""
    c = result.config
    rows = result.summary()
    n_img = sum(r.images for r in result.replications)
    lines = [
        f"Closed-loop validation ({'quick' if quick else 'full'} run, `{COMMAND}"
        f"{' --quick' if quick else ''}`): {c.replications} synthetic cohorts of "
        f"{c.n_patients} treated patients from the follicle model (`generate_cohort`: 1-4 "
        "sessions every 60 days, individual AGA severity and response; the treatment effect is "
        f"the model's hypothesis), imaged at day 0 and day{'s' if len(c.windows) > 1 else ''} "
        f"{', '.join(map(str, c.windows))} as "
        f"{c.width}x{c.height} px phantoms at {c.um_per_px:g} um/px (counting frame "
        f"{c.frame_area_cm2:.3f} cm2; same site re-imaged, hairs clipped to "
        f"{c.hair_length_um[0]:g}-{c.hair_length_um[1]:g} um, black/brown/grey/blond hair on "
        "light/medium/dark skin), counted by the trichometry engine and analysed by "
        "`anagen.evidence.summarize_change` (paired t 95 % CI of the mean change).",
        "",
        "**What is covered:** the *population* mean change in total density (hairs/cm2, "
        "anagen + telogen, vellus included) from day 0 to the window, over the cohort "
        "generator's patient population with every patient treated, from the follicle model's "
        f"own truth (mean over {result.truth[0].n:,} truth-only simulated patients; its Monte "
        "Carlo SE is shown). **What adds error:** sampling of patients (severity, response, "
        "number of sessions), the follicles' turnover within the small imaged area, and the "
        "engine's counting error. The perfect-counter column repeats the analysis on the "
        "phantoms' exact counts, separating the engine's share from the sampling's.",
        "",
        "| window | true mean change [MC SE] (/cm2) | untreated change (/cm2) | mean estimate "
        "(/cm2) | bias [SE] (/cm2) | RMSE (/cm2) | mean CI width (/cm2) | **coverage of 95 % CI** "
        "[SE] | perfect-counter coverage | engine error on a patient's change, mean / SD (/cm2) "
        "| engine vs exact change, r |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for s in rows:
        lines.append(
            f"| day {s.window_day} | {_f(s.true_change, 2)} [{_f(s.true_change_se, 2)}] | "
            f"{_f(s.untreated_change, 2)} | {_f(s.mean_estimate, 2)} | {_f(s.bias, 2)} "
            f"[{_f(s.bias_se, 2)}] | {_f(s.rmse, 2)} | {_f(s.mean_ci_width, 1)} | "
            f"**{_f(100 * s.coverage)} %** [{_f(100 * s.coverage_se)}] | "
            f"{_f(100 * s.perfect_counter_coverage)} % | {_f(s.engine_error_mean, 2)} / "
            f"{_f(s.engine_error_sd, 1)} | {_f(s.engine_truth_correlation, 3)} |"
        )
    lines += [
        "",
        f"Runtime: {n_img:,} images rendered and analysed; {_f(1000 * result.seconds_per_image, 0)}"
        f" ms per image and {_f(result.seconds_per_replication, 1)} s per replication on one "
        f"core (render + analyze + statistics); {_f(result.wall_seconds / 60, 1)} min wall on "
        f"{result.workers} processes, truth population included. The untreated change (natural "
        "history, same patients never treated) is context: the clinic's single-arm interval "
        "covers the change, not the change minus the untreated change.",
        "",
        f"![Estimates and 95 % CIs of the first {FIGURE_REPS} replications against the true "
        f"mean change]({figure_path})",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="24 replications (not published)")
    ap.add_argument("--replications", type=int, help="override the number of replications")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-publish", action="store_true")
    ap.add_argument("--publish", action="store_true", help="publish a --quick run too")
    args = ap.parse_args(argv)
    config = ClosedLoopConfig()
    if args.quick:
        config = replace(config, replications=24, truth_patients=2000, untreated_patients=500)
    if args.replications:
        config = replace(config, replications=args.replications)
    t0 = time.perf_counter()
    n_truth = config.truth_patients + config.untreated_patients
    with tqdm(total=n_truth, desc="truth population", unit="patient") as bar:
        truth = true_density_change(config, workers=args.workers, progress=bar.update)
    with tqdm(total=config.replications, desc="replications", unit="cohort") as bar:
        result = run_closed_loop(config, workers=args.workers, truth=truth, progress=bar.update)
    result = replace(result, wall_seconds=time.perf_counter() - t0)
    publish = not args.no_publish and (args.publish or not (args.quick or args.replications))
    fig = figure(result) if publish else figure(result, Path(tempfile.gettempdir()) / FIGURE.name)
    md = table(result, args.quick, "docs/figures/evidence_coverage.png")
    print(md)
    print(f"figure: {fig}")
    if publish:
        from bench.readme import publish as write

        write("evidence", md, docs_markdown=table(result, args.quick, "../figures/" + FIGURE.name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
