"""Accuracy and speed benchmark of ``anagen.trichometry`` on a fixed phantom set.

Run ``python -m bench.trichometry`` (full set) or ``python -m bench.trichometry --quick``.
The table is published into README.md and docs/benchmarks/trichometry.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import multiprocessing as mp
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from anagen.phantoms import PhantomSpec, render_pair, render_phantom, write_image
from anagen.phantoms.evaluate import match_hairs
from anagen.trichometry import ALGORITHM_VERSION, anagen_telogen, analyze, load_image

VELLUS_MAX = 40.0
WIDTH, HEIGHT = 1632, 1224  # 2.0 megapixels


# ---------------------------------------------------------------------------------------------
# the fixed phantom set


def condition(i: int, complex_scene: bool) -> PhantomSpec:
    """Deterministic spread of imaging conditions for image ``i``."""
    rng = np.random.default_rng([20260, i, int(complex_scene)])
    return PhantomSpec(
        width=WIDTH,
        height=HEIGHT,
        um_per_px=float(rng.choice([5.0, 6.0, 7.0])),
        density_per_cm2=float(rng.choice([50, 100, 150, 200, 300])),
        vellus_fraction=float(rng.choice([0.1, 0.2, 0.35])),
        hair_colour=str(rng.choice(["black", "brown", "blond", "grey"])),
        skin_tone=str(rng.choice(["light", "medium", "dark"])),
        crossings=complex_scene,
        units=complex_scene,
        blur_sigma_px=float(rng.choice([0.5, 1.0, 1.5])),
        noise_sigma=float(rng.choice([2.0, 4.0, 6.0])),
        jpeg_quality=[None, 90, 75][int(rng.integers(0, 3))],
        seed=10_000 + 2 * i + int(complex_scene),
    )


# ---------------------------------------------------------------------------------------------
# baseline: Frangi ridge filter + threshold + skeleton


@dataclass
class _Det:
    polylines: list
    diameters_um: list
    count: float  # counted hairs
    area_cm2: float


def baseline(image: np.ndarray, um: float) -> _Det:
    """Straightforward scikit-image baseline.

    Grey image, Frangi vesselness for dark ridges (sigmas 1, 2, 4, 8 px), Otsu threshold,
    small objects removed, skeleton; one hair per connected skeleton component; diameter =
    2 x distance transform (median over the skeleton); density over the whole image.
    """
    from skimage.filters import frangi, threshold_otsu
    from skimage.measure import label
    from skimage.morphology import remove_small_objects, skeletonize

    g = image.mean(axis=2) / 255.0 if image.ndim == 3 else image / 255.0
    f = frangi(g, sigmas=(1, 2, 4, 8), black_ridges=True)
    mask = f > threshold_otsu(f)
    mask = remove_small_objects(mask, max_size=int((100.0 / um) ** 2))
    skel = skeletonize(mask)
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    lab = label(skel, connectivity=2)
    ys, xs = np.nonzero(lab)
    order = np.argsort(lab[ys, xs])
    ys, xs = ys[order], xs[order]
    splits = np.nonzero(np.diff(lab[ys, xs]))[0] + 1
    polys, diams = [], []
    for yy, xx in zip(np.split(ys, splits), np.split(xs, splits), strict=False):
        if len(yy) < max(3, int(100.0 / um)):
            continue
        polys.append(np.stack([xx, yy], 1).astype(float))
        diams.append(2.0 * float(np.median(dist[yy, xx])) * um)
    area = image.shape[0] * image.shape[1] * (um * 1e-4) ** 2
    return _Det(polys, diams, float(len(polys)), area)


# ---------------------------------------------------------------------------------------------
# per-image evaluation


@dataclass
class Row:
    spec: PhantomSpec
    truth_density: float
    density: float
    f1: float
    d_err: list = field(default_factory=list)
    v_true: list = field(default_factory=list)
    v_pred: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def count_err_pct(self) -> float:
        return 100.0 * (self.density - self.truth_density) / self.truth_density


def _evaluate(spec, truth, polylines, diameters, density) -> Row:
    rep = match_hairs(polylines, truth)
    row = Row(spec, truth.density_per_cm2, density, rep.f1)
    for di, ti in rep.pairs:
        t = truth.hairs[ti]
        row.d_err.append(diameters[di] - t.diameter_um)
        row.v_true.append(t.diameter_um <= VELLUS_MAX)
        row.v_pred.append(diameters[di] <= VELLUS_MAX)
    return row


def _f1(true: list, pred: list) -> float:
    t, p = np.asarray(true, bool), np.asarray(pred, bool)
    tp = float((t & p).sum())
    fp = float((~t & p).sum())
    fn = float((t & ~p).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _analyze_file(path: str) -> float:
    um = float(Path(path).stem.split("_um")[1])
    t = time.perf_counter()
    analyze(load_image(path), um)
    return time.perf_counter() - t


def summarise(rows: list[Row]) -> dict:
    err = np.array([r.count_err_pct for r in rows])
    dd = np.array([r.density - r.truth_density for r in rows])
    derr = np.concatenate([np.asarray(r.d_err, float) for r in rows]) if rows else np.zeros(0)
    vt = [v for r in rows for v in r.v_true]
    vp = [v for r in rows for v in r.v_pred]
    simple = [abs(r.count_err_pct) for r in rows if not r.spec.crossings]
    cplx = [abs(r.count_err_pct) for r in rows if r.spec.crossings]
    return {
        "n": len(rows),
        "mae_simple": float(np.mean(simple)) if simple else float("nan"),
        "mae_complex": float(np.mean(cplx)) if cplx else float("nan"),
        "p95": float(np.percentile(np.abs(err), 95)) if len(err) else float("nan"),
        "ba_bias": float(dd.mean()) if len(dd) else float("nan"),
        "ba_lo": float(dd.mean() - 1.96 * dd.std(ddof=1)) if len(dd) > 1 else float("nan"),
        "ba_hi": float(dd.mean() + 1.96 * dd.std(ddof=1)) if len(dd) > 1 else float("nan"),
        "f1": float(np.mean([r.f1 for r in rows])) if rows else float("nan"),
        "d_bias": float(derr.mean()) if len(derr) else float("nan"),
        "d_mae": float(np.abs(derr).mean()) if len(derr) else float("nan"),
        "vellus_f1": _f1(vt, vp),
        "median_ms": 1000 * statistics.median([r.seconds for r in rows]) if rows else float("nan"),
    }


def run(quick: bool, workers: int, offset: int = 0) -> str:
    cv2.setNumThreads(1)
    n_images = 24 if quick else 300
    baseline_every = 2 if quick else 8
    n_pairs = 6 if quick else 40
    n_rep_scenes, n_rep_noise = (3, 4) if quick else (8, 5)
    rows, base_rows = [], []
    tmp = Path(tempfile.mkdtemp(prefix="bench-trichometry-"))
    files = []
    for i in tqdm(range(n_images), desc="phantoms", unit="img"):
        spec = condition(offset + i, complex_scene=bool(i % 2))
        img, truth = render_phantom(spec)
        ext = "png" if spec.jpeg_quality is None else "jpg"
        path = tmp / f"ph{i:04d}_um{spec.um_per_px}.{ext}"
        write_image(path, img, spec.jpeg_quality)
        files.append(str(path))
        t = time.perf_counter()
        res = analyze(load_image(path), spec.um_per_px)  # whole pipeline, decoded from file
        dt = time.perf_counter() - t
        row = _evaluate(
            spec,
            truth,
            [np.asarray(h.polyline) for h in res.hairs],
            [h.diameter_um for h in res.hairs],
            res.density_per_cm2,
        )
        row.seconds = dt
        rows.append(row)
        if i % baseline_every < 2:  # both groups (even i: simple, odd i: complex)
            dec = load_image(path)
            t = time.perf_counter()
            b = baseline(dec, spec.um_per_px)
            bt = time.perf_counter() - t
            brow = _evaluate(spec, truth, b.polylines, b.diameters_um, b.count / b.area_cm2)
            brow.seconds = bt
            base_rows.append(brow)
    # batch throughput on all cores
    t = time.perf_counter()
    with mp.get_context("spawn").Pool(
        workers, initializer=cv2.setNumThreads, initargs=(1,)
    ) as pool:
        list(
            tqdm(
                pool.imap_unordered(_analyze_file, files),
                total=len(files),
                desc="batch",
                unit="img",
            )
        )
    throughput = len(files) / (time.perf_counter() - t)
    # anagen / telogen pairs
    ag_err = []
    for i in tqdm(range(n_pairs), desc="pairs", unit="pair"):
        spec = condition(offset + 5000 + i, complex_scene=bool(i % 2))
        days = 2.0 if i % 3 else 3.0
        pair = render_pair(spec, days=days)
        r = anagen_telogen(pair.day0, pair.dayn, days=days, um_per_px=spec.um_per_px)
        ag_err.append(100.0 * abs(r.anagen_fraction - pair.anagen_fraction))
    # repeatability: same scene, different sensor noise
    cvs = []
    for s in tqdm(range(n_rep_scenes), desc="repeatability", unit="scene"):
        base = condition(offset + 9000 + s, complex_scene=bool(s % 2))
        counts = []
        for k in range(n_rep_noise):
            spec = PhantomSpec(**{**base.__dict__, "noise_seed": 777 + k})
            img, _ = render_phantom(spec)
            counts.append(analyze(img, spec.um_per_px).hair_count)
        cvs.append(100.0 * float(np.std(counts, ddof=1) / np.mean(counts)))
    s, b = summarise(rows), summarise(base_rows)
    # baseline repeatability and anagen are not defined (no anagen method) -> n/a
    return _table(
        s,
        b,
        throughput,
        ag_err,
        cvs,
        quick,
        n_images,
        len(base_rows),
        n_pairs,
        n_rep_scenes,
        n_rep_noise,
        workers,
    )


def _fmt(x: float, nd: int = 1) -> str:
    return "n/a" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{nd}f}"


def _table(s, b, throughput, ag_err, cvs, quick, n_img, n_base, n_pairs, n_sc, n_no, workers):
    ag_mean = float(np.mean(ag_err)) if ag_err else float("nan")
    ag_p95 = float(np.percentile(ag_err, 95)) if ag_err else float("nan")
    cv_mean = float(np.mean(cvs)) if cvs else float("nan")
    lines = [
        f"Trichometry benchmark ({'quick' if quick else 'full'} set, `{ALGORITHM_VERSION}`): "
        f"{n_img} phantom images of {WIDTH}x{HEIGHT} px (2.0 MP) at 5-7 um/px, half without and "
        "half with crossings and 2-3-hair follicular units; densities 50-300/cm2, black/brown/"
        "blond/grey hair on light/medium/dark skin, blur, noise, JPEG 75/90. Baseline evaluated "
        f"on {n_base} of them. Anagen: {n_pairs} day-0/day-N pairs (2 or 3 days). Repeatability: "
        f"{n_sc} scenes x {n_no} noise seeds. Times on one core (OpenCV single-threaded), image "
        f"decoded from file; batch = {workers} processes.",
        "",
        "| metric | anagen engine | baseline (Frangi + skeleton) | target |",
        "|---|---|---|---|",
        f"| mean abs count error, no crossings/units (%) | {_fmt(s['mae_simple'], 2)} | "
        f"{_fmt(b['mae_simple'])} | <= 3 |",
        f"| mean abs count error, crossings + units (%) | {_fmt(s['mae_complex'], 2)} | "
        f"{_fmt(b['mae_complex'])} | <= 5 |",
        f"| 95th percentile abs count error (%) | {_fmt(s['p95'])} | {_fmt(b['p95'])} | |",
        f"| Bland-Altman density bias [95% LoA] (/cm2) | {_fmt(s['ba_bias'])} "
        f"[{_fmt(s['ba_lo'])}, {_fmt(s['ba_hi'])}] | {_fmt(b['ba_bias'])} "
        f"[{_fmt(b['ba_lo'])}, {_fmt(b['ba_hi'])}] | |",
        f"| matched-hair F1 | {_fmt(s['f1'], 3)} | {_fmt(b['f1'], 3)} | |",
        f"| diameter bias (um) | {_fmt(s['d_bias'], 2)} | {_fmt(b['d_bias'], 2)} | abs <= 3 |",
        f"| diameter MAE (um) | {_fmt(s['d_mae'], 2)} | {_fmt(b['d_mae'], 2)} | <= 5 |",
        f"| vellus F1 (matched hairs, <= 40 um) | {_fmt(s['vellus_f1'], 3)} | "
        f"{_fmt(b['vellus_f1'], 3)} | >= 0.9 |",
        f"| anagen fraction abs error, mean / p95 (points) | {_fmt(ag_mean)} / {_fmt(ag_p95)} "
        "| n/a | <= 3 |",
        f"| median time per image, one core (ms) | {_fmt(s['median_ms'], 0)} | "
        f"{_fmt(b['median_ms'], 0)} | <= 150 |",
        f"| batch throughput, {workers} processes (images/s) | {_fmt(throughput, 2)} | n/a | |",
        f"| repeatability, count CV over noise seeds (%) | {_fmt(cv_mean, 2)} | n/a | <= 2 |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small set (a few minutes)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-publish", action="store_true")
    ap.add_argument(
        "--offset",
        type=int,
        default=0,
        help="shift all phantom indices (a development set; the published set uses 0)",
    )
    args = ap.parse_args(argv)
    md = run(args.quick, args.workers, args.offset)
    if args.offset:
        args.no_publish = True
    print(md)
    if not args.no_publish:
        from bench.readme import publish

        publish("trichometry", md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
