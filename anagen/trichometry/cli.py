"""``anagen trichometry`` sub-commands: ``analyze``, ``anagen`` and ``change``."""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
from pathlib import Path
from typing import Any

from anagen.trichometry.io import ImageError

# (image path, um per px, vellus max um, overlay dir or None, include hairs)
_Job = tuple[str, float, float, str | None, bool]
# (image path, result dict or None, error or None)
_Outcome = tuple[str, dict[str, Any] | None, str | None]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``trichometry`` sub-command to the ``anagen`` parser."""
    p = subparsers.add_parser("trichometry", help="hair count, density and diameters from images")
    sub = p.add_subparsers(dest="trichometry_command", required=True)

    a = sub.add_parser("analyze", help="analyse trichoscopy images of clipped hair")
    a.add_argument("images", nargs="+", metavar="IMAGE")
    a.add_argument("--um-per-px", type=float, required=True, help="calibration (um per pixel)")
    a.add_argument(
        "--vellus-max-um",
        type=float,
        default=40.0,
        help="hairs with diameter <= this are vellus (default 40)",
    )
    a.add_argument("--overlay", metavar="DIR", help="write <image>_overlay.png into DIR")
    a.add_argument("--json", action="store_true", help="JSON output (a list for several images)")
    a.add_argument("--hairs", action="store_true", help="include every hair in the JSON")
    a.add_argument(
        "--jobs", type=int, default=1, help="parallel processes for batches (0 = all cores)"
    )
    a.set_defaults(func=cmd_analyze)

    g = sub.add_parser("anagen", help="anagen/telogen from a day-0 / day-N pair")
    g.add_argument("day0", metavar="DAY0")
    g.add_argument("dayn", metavar="DAYN")
    g.add_argument("--days", type=float, required=True, help="days between the images")
    g.add_argument("--um-per-px", type=float, required=True)
    g.add_argument("--growth-um-per-day", type=float, default=300.0)
    g.add_argument("--json", action="store_true")
    g.set_defaults(func=cmd_anagen)

    c = sub.add_parser(
        "change", help="matched follow-up: persisting, lost and new hairs between two visits"
    )
    c.add_argument("baseline", metavar="BASELINE")
    c.add_argument("followup", metavar="FOLLOWUP")
    c.add_argument("--um-per-px", type=float, required=True, help="calibration (both images)")
    c.add_argument("--vellus-max-um", type=float, default=40.0)
    c.add_argument("--overlay", metavar="OUT.png", help="write the side-by-side overlay here")
    c.add_argument("--json", action="store_true")
    c.add_argument("--hairs", action="store_true", help="include every hair's fate in the JSON")
    c.set_defaults(func=cmd_change)


def _err(msg: str | Exception) -> None:
    print(f"anagen trichometry: error: {' '.join(str(msg).split())}", file=sys.stderr)


def _analyze_one(job: _Job) -> _Outcome:
    """Worker: analyse one image; returns (image, result dict or None, error or None)."""
    path, um, vellus, overlay_dir, hairs = job
    import cv2

    from anagen.trichometry.engine import analyze
    from anagen.trichometry.io import load_image
    from anagen.trichometry.overlay import write_overlay

    cv2.setNumThreads(1)
    try:
        img = load_image(path)
        res = analyze(img, um, vellus_max_um=vellus)
        if overlay_dir:
            out = Path(overlay_dir) / f"{Path(path).stem}_overlay.png"
            write_overlay(out, img, res)
        d = {"image": str(path), **res.to_dict(include_hairs=hairs)}
        return str(path), d, None
    except ImageError as exc:
        msg = str(exc)
        return str(path), None, msg if str(path) in msg else f"{path}: {msg}"
    except Exception as exc:  # one bad image must not stop the batch
        return str(path), None, f"{path}: {type(exc).__name__}: {exc}"


def cmd_analyze(args: argparse.Namespace) -> int:
    from anagen.trichometry.io import check_calibration

    try:
        um = check_calibration(args.um_per_px)
    except ImageError as exc:
        _err(exc)
        return 2
    if args.overlay:
        Path(args.overlay).mkdir(parents=True, exist_ok=True)
    jobs = [(p, um, args.vellus_max_um, args.overlay, args.hairs) for p in args.images]
    n_workers = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    n_workers = max(1, min(n_workers, len(jobs)))
    several = len(jobs) > 1
    from tqdm import tqdm

    bar = tqdm(total=len(jobs), desc="analyse", unit="img", file=sys.stderr, disable=not several)
    results: dict[int, _Outcome] = {}
    if n_workers > 1:
        with mp.get_context("spawn").Pool(n_workers) as pool:
            for i, r in enumerate(pool.imap(_analyze_one, jobs)):
                results[i] = r
                bar.update(1)
    else:
        for i, job in enumerate(jobs):
            results[i] = _analyze_one(job)
            bar.update(1)
    bar.close()
    ok, failed = [], 0
    for i in range(len(jobs)):
        _, d, err = results[i]
        if err:
            failed += 1
            _err(err)
        else:
            assert d is not None, "a job without an error has a result"
            ok.append(d)
    if args.json:
        if several:
            print(json.dumps(ok, indent=1))
        elif ok:
            print(json.dumps(ok[0], indent=1))
    else:
        _print_table(ok)
    return 1 if failed else 0


def _print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        "image",
        "hairs",
        "area cm2",
        "density/cm2",
        "terminal",
        "vellus",
        "mean um",
        "median um",
        "CT mm/cm2",
        "quality",
    )
    lines = []
    for d in rows:
        bad = [k for k, f in d["quality"].items() if not f["ok"]]
        lines.append(
            (
                Path(d["image"]).name,
                str(d["hair_count"]),
                f"{d['area_cm2']:.4f}",
                f"{d['density_per_cm2']:.1f}",
                str(d["terminal_count"]),
                str(d["vellus_count"]),
                "-" if d["mean_diameter_um"] is None else f"{d['mean_diameter_um']:.1f}",
                "-" if d["median_diameter_um"] is None else f"{d['median_diameter_um']:.1f}",
                f"{d['cumulative_thickness_mm_per_cm2']:.2f}",
                "ok" if not bad else "CHECK: " + ",".join(bad),
            )
        )
    widths = [
        max(len(h), *(len(r[i]) for r in lines)) if lines else len(h) for i, h in enumerate(head)
    ]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=False)))
    for r in lines:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)))
    if rows:
        print(f"algorithm {rows[0]['algorithm_version']}")


def cmd_anagen(args: argparse.Namespace) -> int:
    from anagen.trichometry.growth import anagen_telogen

    try:
        res = anagen_telogen(
            args.day0,
            args.dayn,
            days=args.days,
            um_per_px=args.um_per_px,
            growth_um_per_day=args.growth_um_per_day,
        )
    except (ImageError, ValueError) as exc:
        _err(exc)
        return 1
    d = {"day0": args.day0, "dayN": args.dayn, **res.to_dict()}
    if args.json:
        d.pop("hairs")
        print(json.dumps(d, indent=1))
    else:
        print(
            f"anagen {res.anagen_count}  telogen {res.telogen_count}  "
            f"anagen fraction {100 * res.anagen_fraction:.1f} %  (shed {res.shed_count}, "
            f"{res.days:g} days, growth threshold {res.threshold_um:.0f} um)"
        )
    return 0


def cmd_change(args: argparse.Namespace) -> int:
    from anagen.trichometry.change import ChangeError, matched_change
    from anagen.trichometry.change_overlay import write_change_overlay
    from anagen.trichometry.io import load_image

    names = f"{args.baseline} / {args.followup}"
    try:
        baseline = load_image(args.baseline)
        followup = load_image(args.followup)
        res = matched_change(
            baseline,
            followup,
            um_per_px=args.um_per_px,
            vellus_max_um=args.vellus_max_um,
            names=(args.baseline, args.followup),
        )
    except ChangeError as exc:
        _err(exc)
        return 1
    except (ImageError, ValueError) as exc:
        msg = str(exc)
        _err(msg if args.baseline in msg or args.followup in msg else f"{names}: {msg}")
        return 1
    if args.overlay:
        try:
            write_change_overlay(args.overlay, baseline, followup, res)
        except OSError as exc:
            _err(f"{names}: {exc}")
            return 1
    d = {"baseline": args.baseline, "followup": args.followup, **res.to_dict(args.hairs)}
    if args.json:
        print(json.dumps(d, indent=1))
    else:
        reg = d["registration"]
        bad = [k for k, f in d["quality"].items() if not f["ok"]]
        print(
            f"baseline {res.baseline_count}  follow-up {res.followup_count}  persisting "
            f"{res.persisting}  lost {res.lost}  new {res.new}  change {res.count_change:+d} "
            f"({res.density_change_per_cm2:+.1f}/cm2 over {res.common_area_cm2:.3f} cm2)"
        )
        print(
            f"registration dx {reg['dx_px']} dy {reg['dy_px']} px, rotation "
            f"{reg['rotation_deg']} deg, residual {reg['residual_px']} px; quality "
            + ("ok" if not bad else "CHECK: " + ",".join(bad))
        )
        print(f"algorithm {res.algorithm_version}")
    return 0
