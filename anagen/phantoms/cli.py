"""``anagen phantom render``: synthetic trichoscopy images with ground-truth JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``phantom`` sub-command to the ``anagen`` parser."""
    p = subparsers.add_parser("phantom", help="synthetic trichoscopy images with ground truth")
    sub = p.add_subparsers(dest="phantom_command", required=True)
    r = sub.add_parser("render", help="render K phantom images (+ ground-truth JSON)")
    r.add_argument("--out", required=True, metavar="DIR")
    r.add_argument("--n", type=int, default=1, metavar="K")
    r.add_argument("--seed", type=int, default=0, metavar="S")
    r.add_argument("--width", type=int, default=1632)
    r.add_argument("--height", type=int, default=1224)
    r.add_argument("--um-per-px", type=float, default=6.0)
    r.add_argument("--density", type=float, default=150.0, help="hairs per cm2")
    r.add_argument("--vellus-fraction", type=float, default=0.2)
    r.add_argument(
        "--hair-colour",
        "--hair-color",
        default="black",
        choices=["black", "brown", "blond", "grey"],
    )
    r.add_argument(
        "--skin-tone",
        default="light",
        choices=["light", "medium", "dark", "tan", "deep"],
        help="tan, deep: skin of colour with pigment network and white dots",
    )
    r.add_argument("--no-crossings", action="store_true")
    r.add_argument("--no-units", action="store_true")
    r.add_argument("--blur", type=float, default=0.8, help="blur sigma in px")
    r.add_argument("--noise", type=float, default=3.0, help="noise sigma in grey levels")
    r.add_argument("--jpeg-quality", type=int, default=None, help="write JPEG at this quality")
    r.add_argument("--anagen-fraction", type=float, default=0.85)
    r.add_argument(
        "--pairs",
        type=float,
        default=None,
        metavar="DAYS",
        help="render day-0/day-N regrowth pairs DAYS apart",
    )
    r.add_argument(
        "--followup",
        action="store_true",
        help="render baseline/follow-up pairs of one site (hairs lost, new, re-clipped; "
        "camera moved) for 'anagen trichometry change'",
    )
    r.set_defaults(func=cmd_render)


def cmd_render(args: argparse.Namespace) -> int:
    from anagen.phantoms.render import render_pair, render_phantom, write_image
    from anagen.phantoms.spec import PhantomSpec

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ext = "png" if args.jpeg_quality is None else "jpg"
    for i in range(args.n):
        try:
            spec = PhantomSpec(
                width=args.width,
                height=args.height,
                um_per_px=args.um_per_px,
                density_per_cm2=args.density,
                vellus_fraction=args.vellus_fraction,
                hair_colour=args.hair_colour,
                skin_tone=args.skin_tone,
                crossings=not args.no_crossings,
                units=not args.no_units,
                blur_sigma_px=args.blur,
                noise_sigma=args.noise,
                jpeg_quality=args.jpeg_quality,
                seed=args.seed + i,
                anagen_fraction=args.anagen_fraction,
            )
        except ValueError as exc:
            print(f"anagen phantom: error: {exc}", file=sys.stderr)
            return 2
        stem = f"phantom_{spec.seed:05d}"
        if args.followup:
            from anagen.phantoms.followup import render_followup

            fu = render_followup(spec)
            write_image(out / f"{stem}_baseline.{ext}", fu.baseline, spec.jpeg_quality)
            write_image(out / f"{stem}_followup.{ext}", fu.followup, spec.jpeg_quality)
            (out / f"{stem}_followup.json").write_text(json.dumps(fu.to_dict(), indent=1))
            print(out / f"{stem}_baseline.{ext}")
            print(out / f"{stem}_followup.{ext}")
        elif args.pairs is None:
            img, truth = render_phantom(spec)
            write_image(out / f"{stem}.{ext}", img, spec.jpeg_quality)
            truth.to_json(out / f"{stem}.json")
            print(out / f"{stem}.{ext}")
        else:
            pair = render_pair(spec, days=args.pairs)
            write_image(out / f"{stem}_day0.{ext}", pair.day0, spec.jpeg_quality)
            write_image(out / f"{stem}_dayN.{ext}", pair.dayn, spec.jpeg_quality)
            pair.truth0.to_json(out / f"{stem}_day0.json")
            pair.truthn.to_json(out / f"{stem}_dayN.json")
            summary = {
                "days": pair.days,
                "growth_um_per_day": pair.growth_um_per_day,
                "anagen_count": pair.anagen_count,
                "telogen_count": pair.telogen_count,
                "anagen_fraction": pair.anagen_fraction,
                "shed_ids": list(pair.shed_ids),
                "transform_dx_dy_rot_deg": list(pair.truthn.transform),
            }
            (out / f"{stem}_pair.json").write_text(json.dumps(summary, indent=1))
            print(out / f"{stem}_day0.{ext}")
            print(out / f"{stem}_dayN.{ext}")
    return 0
