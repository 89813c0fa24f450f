"""Hair detection and measurement on trichoscopy images of clipped scalp hair.

Pipeline (see ``docs/trichometry.md``):

1. colour contrast: subtract a hair-free background estimated at coarse scale and take the
   noise-whitened magnitude of the colour difference (a Mahalanobis distance to the skin
   colour), so dark, light, grey and blond hairs on any skin tone are all positive;
2. hysteresis threshold at detection scale (~12 um/px) restricted to half the local maximum,
   skeleton;
3. skeleton graph: spurs pruned, junction clusters merged, the two junctions of a shallow
   crossing contracted into one, branches paired by good continuation so that crossings
   split into two hairs and follicular units (Y shapes) into one hair per branch; sharp
   corners split V shapes; ends of hairs cut by the image border carried to the border;
4. diameters from intensity profiles sampled perpendicular to the centreline on the full
   resolution image: full width at half contrast with sub-pixel interpolation, deconvolved
   for the measured edge blur, robust median along the hair; a path whose width grows
   steadily from one end to the other (two hairs of a unit that never part) becomes two;
5. counting frame (``anagen.trichometry.frame``) for an unbiased count and density.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field, replace

import cv2
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.special import erf
from skimage.morphology import skeletonize

from anagen.trichometry.frame import CountingFrame, designated_end
from anagen.trichometry.io import as_rgb_array, check_calibration, load_image

ALGORITHM_VERSION = "anagen-trichometry/1.3.0"
DEFAULT_VELLUS_MAX_UM = 40.0
# a profile must be this much wider than the blur alone for its shaft width to be resolved
RESOLVED_FWHM = 1.05


# ---------------------------------------------------------------------------------------------
# result types


@dataclass(frozen=True)
class QualityFlag:
    """One named quality check: ``ok`` is False when the image should be re-taken or reviewed."""

    name: str
    value: float
    threshold: float
    ok: bool
    message: str


@dataclass(frozen=True)
class Hair:
    """One detected hair.

    Attributes
    ----------
    id : index in :attr:`TrichometryResult.hairs`.
    polyline : centreline in full-resolution pixel coordinates ``((x, y), ...)``.
    length_um, diameter_um : measured shaft length and diameter.
    kind : ``"terminal"`` or ``"vellus"``.
    counted : counted under the counting-frame rule.
    unit_id : follicular-unit group (hairs sharing an ostium share it).
    """

    id: int
    polyline: tuple[tuple[float, float], ...]
    length_um: float
    diameter_um: float
    kind: str
    counted: bool
    unit_id: int


@dataclass(frozen=True)
class TrichometryResult:
    """Everything measured on one image. Counts and statistics refer to *counted* hairs."""

    hairs: tuple[Hair, ...]
    hair_count: int
    area_cm2: float
    density_per_cm2: float
    terminal_count: int
    vellus_count: int
    vellus_max_um: float
    mean_diameter_um: float | None
    median_diameter_um: float | None
    diameters_um: tuple[float, ...]
    diameter_histogram: tuple[tuple[float, float, int], ...]
    cumulative_thickness_mm_per_cm2: float
    follicular_units: tuple[tuple[int, ...], ...]
    quality: tuple[QualityFlag, ...]
    um_per_px: float
    image_shape: tuple[int, int]
    frame: CountingFrame
    algorithm_version: str = ALGORITHM_VERSION
    timings_ms: dict = field(default_factory=dict, compare=False)

    @property
    def quality_ok(self) -> bool:
        return all(f.ok for f in self.quality)

    def to_dict(self, include_hairs: bool = True) -> dict:
        """JSON-ready dictionary (``json.dumps`` works on it directly)."""
        d = {
            "hair_count": self.hair_count,
            "area_cm2": round(self.area_cm2, 6),
            "density_per_cm2": round(self.density_per_cm2, 3),
            "terminal_count": self.terminal_count,
            "vellus_count": self.vellus_count,
            "vellus_max_um": self.vellus_max_um,
            "mean_diameter_um": _r(self.mean_diameter_um),
            "median_diameter_um": _r(self.median_diameter_um),
            "diameters_um": [round(x, 2) for x in self.diameters_um],
            "diameter_histogram": [
                {"from_um": a, "to_um": b, "count": c} for a, b, c in self.diameter_histogram
            ],
            "cumulative_thickness_mm_per_cm2": round(self.cumulative_thickness_mm_per_cm2, 4),
            "follicular_units": [list(u) for u in self.follicular_units],
            "quality": {f.name: asdict(f) for f in self.quality},
            "quality_ok": self.quality_ok,
            "um_per_px": self.um_per_px,
            "image_shape": list(self.image_shape),
            "counting_frame": asdict(self.frame),
            "algorithm_version": self.algorithm_version,
        }
        if include_hairs:
            d["hairs"] = [
                {
                    "id": h.id,
                    "length_um": round(h.length_um, 1),
                    "diameter_um": round(h.diameter_um, 2),
                    "kind": h.kind,
                    "counted": h.counted,
                    "unit_id": h.unit_id,
                    "polyline": [[round(x, 1), round(y, 1)] for x, y in h.polyline],
                }
                for h in self.hairs
            ]
        return d


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(float(x), nd)


# ---------------------------------------------------------------------------------------------
# parameters


@dataclass(frozen=True)
class _Params:
    detect_um_per_px: float = 12.0
    min_length_um: float = 200.0
    min_elongation: float = 2.5
    merge_gap_um: float = 60.0
    covered_gap_um: float = 300.0  # ... and gaps this long where contrast bridges them
    blur_union: bool = False
    merge: bool = True
    local_rel: float = 0.5
    local_um: float = 70.0
    min_border_length_um: float = 60.0
    spur_um: float = 70.0
    spur_r: float = 1.3
    hole_um: float = 40.0
    merge_um: float = 40.0
    pair_cos: float = -0.82
    corner_deg: float = 50.0
    bg_k: float = 6.0
    corner2_um: float = 120.0
    corner2_deg: float = 30.0
    section_step_px: float = 3.0
    low_k: float = 3.2
    high_k: float = 5.5
    # shallow crossings: contract a bridge between two junctions shorter than
    bridge_k: float = 2.5  # ... this many local radii / sin(half the crossing angle)
    bridge_um: float = 800.0  # ... and this length
    # follicular units lying side by side: width at the far end / width at the ostium
    wedge_ratio: float = 1.7
    wedge_rho: float = 0.5  # rank correlation of width with position along the path
    passage_um: float = 150.0  # no corner split where a junction joins two edges this long
    tip_ext: float = 0.8  # free ends extended by this many radii (skeletons stop short)
    border_r: float = 2.5  # ends this close to the border (radii + scales) may reach it
    border_s: float = 3.0


P = _Params()


# ---------------------------------------------------------------------------------------------
# stage 1: contrast image


def _background(small: np.ndarray, exclude: np.ndarray | None, coarse: int) -> np.ndarray:
    """Smooth hair-free background of ``small`` (float32 HxWx3), excluding ``exclude`` pixels."""
    h, w = small.shape[:2]
    cw, ch = max(w // coarse, 4), max(h // coarse, 4)
    if exclude is None:
        c = cv2.resize(small, (cw, ch), interpolation=cv2.INTER_AREA)
        c = cv2.medianBlur(np.clip(c, 0, 255).astype(np.uint8), 5).astype(np.float32)
    else:
        keep = (~exclude).astype(np.float32)
        num = cv2.resize(small * keep[:, :, None], (cw, ch), interpolation=cv2.INTER_AREA)
        den = cv2.resize(keep, (cw, ch), interpolation=cv2.INTER_AREA)
        # normalised convolution at two scales: where a dense tuft covers most of the fine
        # neighbourhood, the coarser hair-free estimate fills in
        num1 = cv2.GaussianBlur(num, (0, 0), 1.0)
        den1 = cv2.GaussianBlur(den, (0, 0), 1.0)
        num3 = cv2.GaussianBlur(num, (0, 0), 3.0)
        den3 = cv2.GaussianBlur(den, (0, 0), 3.0)
        a = 0.15
        c = (num1 + a * num3) / np.maximum(den1 + a * den3, 1e-3)[:, :, None]
    return cv2.resize(c, (w, h), interpolation=cv2.INTER_LINEAR)


_SUM3 = np.ones((1, 3), np.float32)


def _norm3(a: np.ndarray) -> np.ndarray:
    """Per-pixel Euclidean norm of a 3-channel float32 image."""
    return cv2.sqrt(cv2.transform(cv2.multiply(a, a), _SUM3))


def _contrast(small: np.ndarray, coarse: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Polarity-free hair contrast.

    Returns (M, background, colour difference D, 1.0): ``M`` is the noise-whitened magnitude of
    the lightly smoothed colour difference ``D = image - background`` in units of the noise
    (Mahalanobis distance to the skin colour), so dark, light, grey and blond hairs are all
    positive whatever the skin tone.
    """
    bg = _background(small, None, coarse)
    mag = _norm3(cv2.subtract(small, bg))
    ms = mag[::3, ::3]
    med = float(np.median(ms))
    mad = 1.4826 * float(np.median(np.abs(ms - med))) + 1e-3
    cand = mag > min(med + 4.0 * mad, float(np.percentile(ms, 99.0)))
    excl = cv2.dilate(cand.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    bg = _background(small, excl, coarse)
    # second pass: faint (chroma-only) hairs hidden by a background contaminated in dense
    # tufts are found in the noise-whitened contrast and excluded as well
    # (on every other pixel: the mask is dilated anyway)
    m1 = _whitened(cv2.subtract(small[::2, ::2], bg[::2, ::2])) > P.bg_k
    h, w = cand.shape
    cand = cand | (cv2.resize(m1.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0)
    excl = cv2.dilate(cand.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    bg = _background(small, excl, coarse)
    diff = cv2.subtract(small, bg)
    return _whitened(diff), bg, diff, 1.0


def _whitened(diff: np.ndarray) -> np.ndarray:
    """Noise-whitened magnitude of a colour difference, in noise units."""
    ds = cv2.GaussianBlur(diff, (0, 0), 0.7)
    sub = ds[::3, ::3].reshape(-1, 3)
    nsub = np.sqrt((sub * sub).sum(axis=1))
    sel = sub[nsub <= np.percentile(nsub, 75.0)]
    cov = np.cov(sel.T) + np.eye(3) * 1e-3
    evals, evecs = np.linalg.eigh(cov)
    whiten = (evecs / np.sqrt(np.maximum(evals, 1e-6))).T.astype(np.float32)
    m = _norm3(cv2.transform(ds, whiten))
    med = float(np.median(m[::3, ::3]))
    m *= 1.5382 / max(med, 1e-6)  # median of a chi distribution with 3 degrees of freedom
    return m


# ---------------------------------------------------------------------------------------------
# stage 2-3: skeleton graph


_OFFS = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]


_RING_W = np.zeros((3, 3), np.float32)
for _k, (_dy, _dx) in enumerate(_OFFS):
    _RING_W[1 + _dy, 1 + _dx] = float(1 << _k)
_CODES = np.arange(256)
_BITS = (_CODES[:, None] >> np.arange(8)[None, :]) & 1
_COUNT_LUT = _BITS.sum(axis=1).astype(np.uint8)
_TRANS_LUT = ((_BITS == 0) & (np.roll(_BITS, -1, axis=1) == 1)).sum(axis=1).astype(np.uint8)


def _neighbours(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Neighbour count and crossing number (0->1 transitions around the 8-ring)."""
    code = cv2.filter2D(mask.astype(np.float32), -1, _RING_W, borderType=cv2.BORDER_CONSTANT)
    code = code.astype(np.uint8)
    return _COUNT_LUT[code], _TRANS_LUT[code]


def _pixel_graph(mask: np.ndarray) -> tuple[np.ndarray, sparse.csr_matrix]:
    """Index image (-1 outside) and 8-neighbour weighted adjacency of mask pixels."""
    ys, xs = np.nonzero(mask)
    idx = -np.ones(mask.shape, np.int64)
    idx[ys, xs] = np.arange(len(ys))
    rows, cols, wts = [], [], []
    h, w = mask.shape
    for dy, dx, wt in ((0, 1, 1.0), (1, 0, 1.0), (1, 1, math.sqrt(2)), (1, -1, math.sqrt(2))):
        y2, x2 = ys + dy, xs + dx
        ok = (y2 >= 0) & (y2 < h) & (x2 >= 0) & (x2 < w)
        j = np.full(len(ys), -1, np.int64)
        j[ok] = idx[y2[ok], x2[ok]]
        sel = j >= 0
        rows.append(np.nonzero(sel)[0])
        cols.append(j[sel])
        wts.append(np.full(int(sel.sum()), wt))
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    wv = np.concatenate(wts)
    n = len(ys)
    g = sparse.csr_matrix(
        (np.concatenate([wv, wv]), (np.concatenate([r, c]), np.concatenate([c, r]))), shape=(n, n)
    )
    return idx, g


@dataclass
class _Edge:
    pts: np.ndarray  # (n, 2) (y, x) ordered
    length: float
    nodes: list  # [node at start or -1, node at end or -1]


def _build_graph(skel: np.ndarray, merge_px: float) -> tuple[list[_Edge], np.ndarray]:
    """Split a skeleton into edges between junction clusters.

    Returns edges (ordered pixel paths with the junction cluster at each end, -1 for free ends)
    and the (n_nodes, 2) junction centroids (y, x).
    """
    count, trans = _neighbours(skel)
    junction = skel & (trans >= 3)
    edges, centroids = _graph_at(skel, junction, merge_px)
    # a branch point whose neighbours touch each other has fewer than three 0->1 transitions
    # and hides inside an edge, whose pixels then do not form one path (the ordered pixels
    # jump between the branches): make the crowded pixels of such edges junctions too
    bad = [e for e in edges if len(e.pts) > 1 and np.abs(np.diff(e.pts, axis=0)).max() > 1]
    if not bad:
        return edges, centroids
    pts = np.concatenate([e.pts for e in bad]).astype(int)
    crowded = count[pts[:, 0], pts[:, 1]] >= 3
    junction = junction.copy()
    junction[pts[crowded, 0], pts[crowded, 1]] = True
    # rebuild only the skeleton pieces that hold such edges (a window around them)
    _, comp = cv2.connectedComponents(skel.astype(np.uint8), connectivity=8)
    region = np.isin(comp, np.unique(comp[pts[:, 0], pts[:, 1]]))
    ys, xs = np.nonzero(region)
    m = max(1, round(merge_px)) + 2
    y0, y1 = max(ys.min() - m, 0), ys.max() + m + 1
    x0, x1 = max(xs.min() - m, 0), xs.max() + m + 1
    win = region[y0:y1, x0:x1]
    sub_edges, sub_cents = _graph_at(
        skel[y0:y1, x0:x1] & win, junction[y0:y1, x0:x1] & win, merge_px
    )
    shift = np.array([y0, x0], float)
    base = len(centroids)
    kept = [e for e in edges if not region[int(e.pts[0, 0]), int(e.pts[0, 1])]]
    for e in sub_edges:
        nodes = [nd + base if nd >= 0 else -1 for nd in e.nodes]
        kept.append(_Edge(pts=e.pts + shift, length=e.length, nodes=nodes))
    return kept, np.concatenate([centroids, sub_cents + shift]) if len(sub_cents) else centroids


def _graph_at(
    skel: np.ndarray, junction: np.ndarray, merge_px: float
) -> tuple[list[_Edge], np.ndarray]:
    """Edges and junction-cluster centroids of ``skel`` for the given junction pixels."""
    r = max(1, round(merge_px))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    node_region = (cv2.dilate(junction.astype(np.uint8), kernel) > 0) & skel
    n_nodes, node_lab = cv2.connectedComponents(node_region.astype(np.uint8), connectivity=8)
    node_lab = node_lab.astype(np.int32)
    centroids = np.zeros((max(n_nodes - 1, 0), 2))
    if n_nodes > 1:
        ys, xs = np.nonzero(node_lab)
        lab = node_lab[ys, xs] - 1
        cnt = np.bincount(lab, minlength=n_nodes - 1)
        centroids[:, 0] = np.bincount(lab, ys, minlength=n_nodes - 1) / np.maximum(cnt, 1)
        centroids[:, 1] = np.bincount(lab, xs, minlength=n_nodes - 1) / np.maximum(cnt, 1)
    edge_mask = skel & ~node_region
    if not edge_mask.any():
        return [], centroids
    _n_edges, edge_lab = cv2.connectedComponents(edge_mask.astype(np.uint8), connectivity=8)
    count, trans_e = _neighbours(edge_mask)
    ends = edge_mask & ((count <= 1) | (trans_e == 1))
    idx, g = _pixel_graph(edge_mask)
    ey, ex = np.nonzero(ends)
    elab = edge_lab[ey, ex]
    # one source per edge: its first end; loops (no end) get their first pixel
    ys_all, xs_all = np.nonzero(edge_mask)
    lab_all = edge_lab[ys_all, xs_all]
    ulab, first_end = np.unique(elab, return_index=True)
    src_idx = idx[ey[first_end], ex[first_end]]
    ulab_all, first_pix = np.unique(lab_all, return_index=True)
    loops = ~np.isin(ulab_all, ulab)
    sources = np.concatenate(
        [src_idx, idx[ys_all[first_pix[loops]], xs_all[first_pix[loops]]]]
    ).astype(np.int64)
    dist = csgraph.dijkstra(g, directed=False, indices=sources, min_only=True)
    dpix = dist[idx[ys_all, xs_all]]
    order = np.lexsort((dpix, lab_all))
    ys_o, xs_o, lab_o, d_o = ys_all[order], xs_all[order], lab_all[order], dpix[order]
    splits = np.nonzero(np.diff(lab_o))[0] + 1
    # node adjacency of every pixel: the highest and the lowest node label within one pixel
    # (an edge of a pixel or two between two close junctions touches both at each end)
    ring = np.ones((3, 3), np.uint8)
    node_hi = cv2.dilate(node_lab.astype(np.float32), ring).astype(np.int32)
    none = float(n_nodes + 1)
    node_lo = cv2.erode(np.where(node_lab > 0, node_lab, none).astype(np.float32), ring)
    node_lo = np.where(node_lo >= none, 0, node_lo).astype(np.int32)
    edges = []
    for ys_e, xs_e, d_e in zip(
        np.split(ys_o, splits), np.split(xs_o, splits), np.split(d_o, splits), strict=False
    ):
        pts = np.stack([ys_e, xs_e], axis=1).astype(np.float64)
        if not np.isfinite(d_e[-1]):
            continue
        length = float(d_e[-1]) + 1.0
        a = int(node_hi[ys_e[0], xs_e[0]]) - 1
        b = int(node_hi[ys_e[-1], xs_e[-1]]) - 1
        if a == b >= 0:  # a loop only if no other junction touches either end
            b_lo = int(node_lo[ys_e[-1], xs_e[-1]]) - 1
            a_lo = int(node_lo[ys_e[0], xs_e[0]]) - 1
            if b_lo >= 0 and b_lo != a:
                b = b_lo
            elif a_lo >= 0 and a_lo != b:
                a = a_lo
        edges.append(_Edge(pts=pts, length=length, nodes=[a, b]))
    return edges, centroids


def _direction(pts: np.ndarray, reach: float) -> np.ndarray:
    """Unit direction pointing from pts[0] into the path, over about ``reach`` pixels."""
    d = np.sqrt(((pts - pts[0]) ** 2).sum(axis=1))
    k = int(np.searchsorted(d, reach)) if d[-1] >= reach else len(pts) - 1
    k = max(k, min(1, len(pts) - 1))
    v = pts[k] - pts[0]
    if k > 0:
        v = pts[1 : k + 1].mean(axis=0) - pts[0]
    n = float(np.hypot(*v))
    return v / n if n > 0 else np.zeros(2)


def _branches(edges: list[_Edge]) -> dict[int, list[tuple[int, int]]]:
    """The branches at each junction: ``node -> [(edge index, end 0/1), ...]``."""
    at_node: dict[int, list[tuple[int, int]]] = {}
    for ei, e in enumerate(edges):
        for end in (0, 1):
            if e.nodes[end] >= 0:
                at_node.setdefault(e.nodes[end], []).append((ei, end))
    return at_node


def _decompose(
    edges: list[_Edge],
    centroids: np.ndarray,
    reach: float,
    pair_cos: float,
    min_passage_px: float = 0.0,
) -> tuple[list[np.ndarray], list[list[int]]]:
    """Join edges into hair paths by pairing branches with good continuation at junctions.

    Returns the paths and, for each, the indices of the junctions it passes through between
    two edges at least ``min_passage_px`` long.
    """
    if not edges:
        return [], []
    # branches: (edge index, end 0/1); direction pointing away from the node
    branches = _branches(edges)
    direc = {
        (ei, end): _direction(edges[ei].pts if end == 0 else edges[ei].pts[::-1], reach)
        for br in branches.values()
        for ei, end in br
    }
    partner: dict[tuple[int, int], tuple[int, int]] = {}
    shared: dict[tuple[int, int], tuple[int, int]] = {}
    for _nd, br in branches.items():
        pairs = []
        for i in range(len(br)):
            for j in range(i + 1, len(br)):
                if br[i][0] == br[j][0]:
                    continue  # loop edge
                pairs.append((float(direc[br[i]] @ direc[br[j]]), br[i], br[j]))
        pairs.sort(key=lambda t: t[0])
        for c, a, b in pairs:
            if c > pair_cos:
                break
            if a in partner or b in partner:
                continue
            partner[a] = b
            partner[b] = a
        for a in br:
            if a in partner:
                continue
            best = None
            for c, x, y in pairs:
                if c > pair_cos:
                    break
                if x == a:
                    best = y
                    break
                if y == a:
                    best = x
                    break
            if best is not None:
                shared[a] = best
    paths, passages_of = [], []
    seen = set()
    used = np.zeros(len(edges), bool)
    starts = []
    for ei, e in enumerate(edges):
        for end in (0, 1):
            if e.nodes[end] < 0 or ((ei, end) not in partner and (ei, end) not in shared):
                starts.append((ei, end))
    for st in starts:
        ei, end = st
        seq = []
        cur = (ei, end)
        for _ in range(len(edges) + 1):
            e = edges[cur[0]]
            used[cur[0]] = True
            seq.append((cur[0], cur[1]))
            far = (cur[0], 1 - cur[1])
            nxt = partner.get(far) or shared.get(far)
            if e.nodes[1 - cur[1]] < 0 or nxt is None:
                break
            if any(s[0] == nxt[0] for s in seq):
                break
            cur = nxt
        key = (min(st, far), max(st, far), len(seq))
        if key in seen:
            continue
        seen.add(key)
        parts, passages, at = [], [], 0
        for k, (eid, e_end) in enumerate(seq):
            pts = edges[eid].pts if e_end == 0 else edges[eid].pts[::-1]
            if k > 0:
                nd = edges[eid].nodes[e_end]
                parts.append(centroids[nd][None, :])
                if min(edges[eid].length, edges[seq[k - 1][0]].length) >= min_passage_px:
                    passages.append(at)
                at += 1
            parts.append(pts)
            at += len(pts)
        paths.append(np.concatenate(parts))
        passages_of.append(passages)
    for ei, e in enumerate(edges):
        if not used[ei]:
            paths.append(e.pts)
            passages_of.append([])
    return paths, passages_of


def _contract_bridges(
    edges: list[_Edge],
    centroids: np.ndarray,
    dist: np.ndarray,
    reach: float,
    pair_cos: float,
    max_len: float,
    k_radius: float,
) -> tuple[list[_Edge], np.ndarray]:
    """Merge the two junctions of a shallow crossing into one four-way junction.

    Two hairs crossing at a shallow angle overlap over a stretch; its skeleton is a short
    *bridge* between two three-way junctions. Each hair enters at one junction and leaves at
    the other, so the bridge is contracted when the four outer branches form two
    anti-collinear pairs across it; pairing at the merged junction then splits the crossing.
    """
    if len(centroids) < 2:
        return edges, centroids
    at_node = _branches(edges)
    cents = centroids.copy()
    remap = np.arange(len(centroids))
    drop = set()
    for ei, e in sorted(enumerate(edges), key=lambda t: t[1].length):
        a, b = e.nodes
        if a < 0 or b < 0 or a == b or len(at_node[a]) != 3 or len(at_node[b]) != 3:
            continue
        if remap[a] != a or remap[b] != b:
            continue
        outer = []
        for nd in (a, b):
            br = [(j, end) for j, end in at_node[nd] if j != ei]
            if len(br) != 2:
                break
            # directions further out than at ordinary junctions: close to a long overlap the
            # skeleton bends towards the bridge
            outer.append(
                [
                    _direction(edges[j].pts if end == 0 else edges[j].pts[::-1], 3.0 * reach)
                    for j, end in br
                ]
            )
        if len(outer) != 2:
            continue
        (a1, a2), (b1, b2) = outer
        crossing = min(max(float(a1 @ b1), float(a2 @ b2)), max(float(a1 @ b2), float(a2 @ b1)))
        if crossing > pair_cos:
            continue
        # two shafts of radius ~r crossing at angle t overlap over about 2r / sin(t / 2)
        mid = e.pts[len(e.pts) // 2]
        r = float(dist[int(mid[0]), int(mid[1])])
        sin_half = math.sqrt(max(0.5 * (1.0 - float(a1 @ a2)), 0.0))
        if e.length > min(max_len, k_radius * max(r, 1.0) / max(sin_half, 0.05)):
            continue
        remap[b] = a
        cents[a] = 0.5 * (centroids[a] + centroids[b])
        drop.add(ei)
    if not drop:
        return edges, centroids
    out = []
    for ei, e in enumerate(edges):
        if ei in drop:
            continue
        nodes = [int(remap[nd]) if nd >= 0 else -1 for nd in e.nodes]
        out.append(_Edge(pts=e.pts, length=e.length, nodes=nodes))
    return out, cents


def _split_corners(
    path: np.ndarray, k: int, max_turn_deg: float, keep: np.ndarray | None = None
) -> list[np.ndarray]:
    """Split a path at sharp corners (V-shaped pairs of hairs from one ostium).

    ``keep`` marks path points where no split may happen (junction passages the pairing has
    already judged a continuation: the skeleton kinks there).
    """
    n = len(path)
    if n < 2 * k + 3:
        return [path]
    a = path[k:-k] - path[: -2 * k]
    b = path[2 * k :] - path[k:-k]
    na = np.hypot(a[:, 0], a[:, 1])
    nb = np.hypot(b[:, 0], b[:, 1])
    cosang = (a * b).sum(1) / np.maximum(na * nb, 1e-9)
    turn = np.degrees(np.arccos(np.clip(cosang, -1, 1)))
    if keep is not None:
        turn[keep[k:-k]] = 0.0
    i = int(np.argmax(turn))
    if turn[i] < max_turn_deg:
        return [path]
    c = i + k
    left = None if keep is None else keep[: c + 1]
    right = None if keep is None else keep[c:]
    return _split_corners(path[: c + 1], k, max_turn_deg, left) + _split_corners(
        path[c:], k, max_turn_deg, right
    )


def _group_median(values: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """Median of ``values`` per group id ``0..n-1`` (NaN for empty groups), vectorised."""
    out = np.full(n, np.nan)
    ok = np.isfinite(values)
    values, groups = values[ok], groups[ok]
    if len(values) == 0:
        return out
    order = np.lexsort((values, groups))
    v, g = values[order], groups[order]
    counts = np.bincount(g, minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    has = counts > 0
    lo = starts[has] + (counts[has] - 1) // 2
    hi = starts[has] + counts[has] // 2
    out[has] = 0.5 * (v[lo] + v[hi])
    return out


def _end_tangent(poly: np.ndarray, end: int, reach: float) -> np.ndarray:
    """Outward unit tangent at ``end`` (0 or -1) of a polyline, over ``reach`` px."""
    pts = poly if end == 0 else poly[::-1]
    d = np.hypot(*(pts - pts[0]).T)
    k = int(np.searchsorted(d, reach))
    k = min(max(k, 1), len(pts) - 1)
    v = pts[0] - pts[k]
    n = float(np.hypot(*v))
    return v / n if n > 0 else np.zeros(2)


def _reach_border(
    poly: np.ndarray, r_loc: float, mask: np.ndarray, scale: int, size: tuple[int, int]
) -> np.ndarray:
    """Carry an end of a hair cut by the image border out to the border.

    The skeleton of a shaft cut by the border can stop a radius or more short of it, which puts
    the end of a hair that leaves the image inside the counting frame. When the hair's mask
    reaches the border straight ahead of an end, the end is continued along the hair's
    direction to the border.
    """
    W, H = size
    h, w = mask.shape
    off = (scale - 1) / 2.0
    limit = P.border_r * r_loc + P.border_s * scale
    out = poly
    length = None
    for end in (0, -1):
        p = poly[end]
        if min(p[0], p[1], W - 1 - p[0], H - 1 - p[1]) > limit:
            continue  # the border is out of reach whatever the direction
        if length is None:
            length = float(np.hypot(*np.diff(poly, axis=0).T).sum())
        u = _end_tangent(poly, end, max(2.0, min(6.0 * r_loc, 0.3 * length)))
        ts = []
        for k, hi in ((0, W - 1), (1, H - 1)):
            if u[k] < -1e-6:
                ts.append(-p[k] / u[k])
            elif u[k] > 1e-6:
                ts.append((hi - p[k]) / u[k])
        if not ts or min(ts) > limit:
            continue
        b = p + min(ts) * u
        bx = int(np.clip(round((b[0] - off) / scale), 0, w - 1))
        by = int(np.clip(round((b[1] - off) / scale), 0, h - 1))
        if not mask[max(by - 1, 0) : by + 2, max(bx - 1, 0) : bx + 2].any():
            continue
        out = np.concatenate([b[None, :], out]) if end == 0 else np.concatenate([out, b[None, :]])
    return out


def _merge_fragments(
    polys: list[np.ndarray],
    radii: list[float],
    max_gap: float,
    cos_min: float = 0.9,
    support: np.ndarray | None = None,
    scale: int = 1,
    max_covered_gap: float = 0.0,
) -> tuple[list[np.ndarray], list[float]]:
    """Join collinear fragments of one hair whose ends face each other across a gap.

    Gaps up to ``max_gap`` (plus the radii) are joined on geometry alone. Longer gaps, up to
    ``max_covered_gap``, are joined when the straight segment between the ends runs over hair
    contrast all the way (``support``: a detection-scale mask of above-threshold contrast):
    a faint hair that passes under a strong one loses its pixels next to the strong one to
    the local-maximum rule, and a specular highlight can cut a shaft, yet the contrast is there.
    """
    from scipy.spatial import cKDTree

    n = len(polys)
    if n < 2:
        return list(polys), list(radii)
    lengths = [float(np.hypot(*np.diff(p, axis=0).T).sum()) for p in polys]
    ends = np.array([[p[0], p[-1]] for p in polys]).reshape(-1, 2)
    tang = np.array(
        [
            [_end_tangent(p, 0, min(20.0, 0.5 * ln)), _end_tangent(p, -1, min(20.0, 0.5 * ln))]
            for p, ln in zip(polys, lengths, strict=False)
        ]
    ).reshape(-1, 2)
    rmax = max(radii)
    reach = max(max_gap + 3 * rmax, max_covered_gap if support is not None else 0.0)
    pairs = cKDTree(ends).query_pairs(reach, output_type="ndarray")
    if len(pairs) == 0:
        return list(polys), list(radii)
    a, b = pairs[:, 0], pairs[:, 1]
    r = np.asarray(radii, dtype=float)
    ri, rj = r[a // 2], r[b // 2]
    g = ends[b] - ends[a]
    gap = np.hypot(g[:, 0], g[:, 1])
    c = (tang[a] * tang[b]).sum(axis=1)
    gu = g / np.maximum(gap, 1e-9)[:, None]
    facing = ((gu * tang[a]).sum(axis=1) >= cos_min) & ((-gu * tang[b]).sum(axis=1) >= cos_min)
    ok = (
        (a // 2 != b // 2)
        & (np.maximum(ri, rj) <= 1.7 * np.minimum(ri, rj) + scale)  # detection-scale radii: +-1 px
        & (c <= -cos_min)
        & ((gap <= 2.0) | facing)
    )
    short = gap <= max_gap + 3 * np.maximum(ri, rj)
    long_ = ok & ~short & (gap <= max_covered_gap)
    ok &= short
    for k in np.nonzero(long_)[0]:  # the contrast test only for the few that pass the geometry
        ok[k] = _supported(ends[a[k]], ends[b[k]], support, scale)
    key = (gap + 20.0 * c)[ok]
    cands = sorted(zip(key.tolist(), a[ok].tolist(), b[ok].tolist(), strict=True))
    if not cands:
        return list(polys), list(radii)
    link: dict[int, int] = {}
    comp = list(range(n))  # union-find over fragments to avoid cycles

    def find(i: int) -> int:
        while comp[i] != i:
            comp[i] = comp[comp[i]]
            i = comp[i]
        return i

    for _, a, b in cands:
        if a in link or b in link:
            continue
        ra, rb = find(a // 2), find(b // 2)
        if ra == rb:
            continue
        link[a] = b
        link[b] = a
        comp[ra] = rb
    out_p, out_r, seen = [], [], set()
    for i in range(n):
        if i in seen:
            continue
        # walk to one end of the chain
        start, end_id = i, 2 * i
        visited = {i}
        while end_id in link:
            nxt = link[end_id] // 2
            if nxt in visited:
                break
            visited.add(nxt)
            end_id = link[end_id] ^ 1
            start = nxt
        # now walk forward from ``start`` through its free end ``end_id``
        parts, rs, cur, entry = [], [], start, end_id
        while True:
            seen.add(cur)
            p = polys[cur] if entry == 2 * cur else polys[cur][::-1]
            parts.append(p)
            rs.append((radii[cur], len(p)))
            exit_end = entry ^ 1
            if exit_end not in link:
                break
            nxt_end = link[exit_end]
            cur, entry = nxt_end // 2, nxt_end
            if cur in seen:
                break
        if len(parts) == 1:
            out_p.append(parts[0])
        else:
            out_p.append(_smooth_resample(np.concatenate(parts), 2.0))
        out_r.append(sum(r * k for r, k in rs) / sum(k for _, k in rs))
    return out_p, out_r


def _supported(a: np.ndarray, b: np.ndarray, support: np.ndarray | None, scale: int) -> bool:
    """True if the segment from ``a`` to ``b`` (full-resolution x, y) lies on ``support``."""
    if support is None:
        return False
    n = max(2, int(np.hypot(*(b - a)) / scale) + 1)
    t = np.linspace(0.0, 1.0, n)[:, None]
    q = ((a + t * (b - a)) - (scale - 1) / 2.0) / scale
    h, w = support.shape
    ix = np.clip(np.rint(q[:, 0]).astype(int), 0, w - 1)
    iy = np.clip(np.rint(q[:, 1]).astype(int), 0, h - 1)
    return bool(support[iy, ix].all())


def _smooth_resample(path: np.ndarray, step: float) -> np.ndarray:
    """Smooth an (N,2) pixel path (5-point moving average) and resample it every ``step`` px.

    The end points are kept.
    """
    path = np.asarray(path, dtype=float)
    if len(path) >= 5:
        pad = np.concatenate([path[:1], path[:1], path, path[-1:], path[-1:]])
        c = np.cumsum(np.concatenate([np.zeros((1, 2)), pad]), axis=0)
        sm = (c[5:] - c[:-5]) / 5.0
        sm[0], sm[-1] = path[0], path[-1]
    else:
        sm = path
    d = np.diff(sm, axis=0)
    seg = np.sqrt((d * d).sum(axis=1))
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        return sm[:1].repeat(2, 0)
    n = max(2, math.ceil(s[-1] / step) + 1)
    t = np.linspace(0, s[-1], n)
    return np.stack([np.interp(t, s, sm[:, 0]), np.interp(t, s, sm[:, 1])], 1)


# ---------------------------------------------------------------------------------------------
# stage 4: diameters


def _fwhm_table(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """FWHM of a box of width w blurred by a Gaussian of ``sigma`` (both px), for a w grid."""
    w = np.linspace(0.05, 60.0, 1200)
    if sigma <= 1e-3:
        return w, w
    s2 = math.sqrt(2) * sigma

    def prof(x: np.ndarray) -> np.ndarray:
        return 0.5 * (erf((x + w / 2) / s2) - erf((x - w / 2) / s2))

    half = prof(np.zeros_like(w)) / 2
    lo, hi = np.zeros_like(w), w / 2 + 6 * sigma
    for _ in range(40):  # bisection for prof(x) = half
        mid = 0.5 * (lo + hi)
        above = prof(mid) > half
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return w, lo + hi


def _profiles(
    rgb: np.ndarray,
    bg_small: np.ndarray,
    scale: float,
    directions: list[np.ndarray],
    polys: list[np.ndarray],
    radii: list[float],
    step: float,
    n_u: int = 81,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Perpendicular contrast profiles; returns per-hair section indices, widths, sigmas."""
    centres, normals, halfw, owner = [], [], [], []
    for hi, (p, r) in enumerate(zip(polys, radii, strict=False)):
        seg = np.hypot(*np.diff(p, axis=0).T)
        s = np.concatenate([[0.0], np.cumsum(seg)])
        length = s[-1]
        trim = min(max(1.5 * r, 3.0), 0.3 * length)
        n = max(3, int((length - 2 * trim) / step))
        t = np.linspace(trim, length - trim, n) if length > 2 * trim else np.full(3, length / 2)
        x = np.interp(t, s, p[:, 0])
        y = np.interp(t, s, p[:, 1])
        dt = 2.0 * max(r, 2.0)
        xa, ya = np.interp(t - dt, s, p[:, 0]), np.interp(t - dt, s, p[:, 1])
        xb, yb = np.interp(t + dt, s, p[:, 0]), np.interp(t + dt, s, p[:, 1])
        tx, ty = xb - xa, yb - ya
        nn = np.maximum(np.hypot(tx, ty), 1e-9)
        centres.append(np.stack([x, y], 1))
        normals.append(np.stack([-ty / nn, tx / nn], 1))
        halfw.append(np.full(len(t), 2.0 * r + 6.0))
        owner.append(np.full(len(t), hi))
    if not centres:
        return [], np.zeros(0), np.zeros(0)
    c = np.concatenate(centres)
    nrm = np.concatenate(normals)
    hw = np.concatenate(halfw)
    own = np.concatenate(owner)
    u = np.linspace(-1.0, 1.0, n_u)
    off = hw[:, None] * u[None, :]
    mx = (c[:, 0:1] + off * nrm[:, 0:1]).astype(np.float32)
    my = (c[:, 1:2] + off * nrm[:, 1:2]).astype(np.float32)
    samp = cv2.remap(rgb, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT).astype(
        np.float32
    )
    f = (scale - 1) / 2.0
    bgs = cv2.remap(
        bg_small,
        (mx - f) / scale,
        (my - f) / scale,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT,
    )
    dvec = np.asarray(directions, dtype=np.float32)[own]
    prof = np.einsum("suc,sc->su", samp - bgs, dvec)
    tail = n_u // 7
    left = np.median(prof[:, :tail], axis=1)
    right = np.median(prof[:, -tail:], axis=1)
    base = np.minimum(left, right)
    prof = prof - base[:, None]
    du = hw * (u[1] - u[0])
    centre_band = np.abs(off) <= (hw[:, None] - 6.0) / 2.0 + 2.0
    pk_prof = np.where(centre_band, prof, -np.inf)
    pk = np.argmax(pk_prof, axis=1)
    rows = np.arange(len(prof))
    peak = prof[rows, pk]
    half = peak / 2.0
    below = prof < half[:, None]
    idx = np.arange(n_u)[None, :]
    li = np.where(below & (idx < pk[:, None]), idx, -1).max(axis=1)
    ri = np.where(below & (idx > pk[:, None]), idx, n_u).min(axis=1)
    valid = (li >= 0) & (ri < n_u) & (peak > 0)
    li_c = np.clip(li, 0, n_u - 2)
    ri_c = np.clip(ri, 1, n_u - 1)
    pl0, pl1 = prof[rows, li_c], prof[rows, li_c + 1]
    pr0, pr1 = prof[rows, ri_c - 1], prof[rows, ri_c]
    xl = li_c + (half - pl0) / np.maximum(pl1 - pl0, 1e-9)
    xr = (ri_c - 1) + (pr0 - half) / np.maximum(pr0 - pr1, 1e-9)
    width = (xr - xl) * du
    slope = 0.5 * (np.abs(pl1 - pl0) + np.abs(pr0 - pr1)) / du
    sig = peak / (math.sqrt(2 * math.pi) * np.maximum(slope, 1e-9))
    width[~valid] = np.nan
    sig[~valid] = np.nan
    groups = [np.nonzero(own == i)[0] for i in range(len(polys))]
    return groups, width, sig


# ---------------------------------------------------------------------------------------------
# main entry point


def contrast_image(
    rgb: np.ndarray, um_per_px: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, int]:
    """Detection-scale hair contrast image.

    Returns
    -------
    small : float32 RGB image at detection scale.
    F : float32 signed contrast, hairs positive, skin ~0.
    bg : float32 RGB background at detection scale.
    diff : float32 RGB colour difference ``small - bg``.
    sigma : noise level of F (1: F is in noise units).
    scale : integer down-sampling factor from full resolution.
    """
    H, W = rgb.shape[:2]
    scale = max(1, round(P.detect_um_per_px / um_per_px))
    det_um = um_per_px * scale
    if scale > 1:
        small = cv2.resize(rgb, (W // scale, H // scale), interpolation=cv2.INTER_AREA)
    else:
        small = rgb
    small = small.astype(np.float32)
    coarse = max(2, round(96.0 / det_um))
    F, bg_small, diff, sigma_n = _contrast(small, coarse)
    return small, F, bg_small, diff, sigma_n, scale


def analyze(
    image: np.ndarray | str | os.PathLike,
    um_per_px: float,
    vellus_max_um: float = DEFAULT_VELLUS_MAX_UM,
    frame_margin_px: float | None = None,
    min_hairs: int = 10,
) -> TrichometryResult:
    """Detect and measure every hair in a trichoscopy image of clipped hair.

    Parameters
    ----------
    image : (H, W, 3) RGB or (H, W) grey array, or a path (decoded with :func:`load_image`).
    um_per_px : calibration in micrometres per pixel (required).
    vellus_max_um : hairs with diameter <= this are vellus, others terminal.
    frame_margin_px : inset of the counting frame; default ``max(8, 1 % of the short side)``.
    min_hairs : below this count the ``too_few_hairs`` quality flag is raised.

    Returns
    -------
    TrichometryResult

    Raises
    ------
    ImageError
        For unreadable images or missing/invalid calibration.
    """
    t0 = time.perf_counter()
    um = check_calibration(um_per_px)
    rgb = load_image(image) if isinstance(image, (str, os.PathLike)) else as_rgb_array(image)
    t_load = time.perf_counter()
    H, W = rgb.shape[:2]
    small, F, bg_small, diff, _sigma_n, scale = contrast_image(rgb, um)
    det_um = um * scale
    Fs = F
    strong = Fs[Fs > 8.0]
    c_hair = float(np.median(strong)) if strong.size > 50 else 8.0
    low = max(P.low_k, 0.12 * c_hair)
    high = max(P.high_k, 0.25 * c_hair)
    above_low = Fs > low  # also the contrast that bridges fragment gaps (below)
    mask_low = above_low.copy()
    if P.blur_union:
        mask_low |= cv2.GaussianBlur(F, (0, 0), 1.2) > low
    if P.local_rel > 0:
        k = 2 * max(1, round(P.local_um / det_um / 2)) + 1
        local = cv2.dilate(Fs, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        mask_low &= Fs > P.local_rel * local
    mask_low = mask_low.astype(np.uint8)
    n_lab, lab, stats, _ = cv2.connectedComponentsWithStats(mask_low, connectivity=8)
    has_high = np.zeros(n_lab, bool)
    has_high[np.unique(lab[Fs > high])] = True
    has_high[0] = False
    big = stats[:, cv2.CC_STAT_AREA] >= max(4, int((60.0 / det_um) ** 2))
    mask = (has_high & big)[lab]
    # fill small holes (shallow crossings)
    inv = (~mask).astype(np.uint8)
    _n_h, hl, hstats, _ = cv2.connectedComponentsWithStats(inv, connectivity=4)
    small_hole = hstats[:, cv2.CC_STAT_AREA] <= max(4, int((P.hole_um / det_um) ** 2))
    small_hole[0] = False
    border = np.unique(np.concatenate([hl[0], hl[-1], hl[:, 0], hl[:, -1]]))
    small_hole[border] = False
    mask = mask | small_hole[hl]
    t_mask = time.perf_counter()
    skel = skeletonize(mask)
    dist = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 3)
    merge_px = P.merge_um / det_um
    edges, cents = _build_graph(skel, merge_px)
    # prune short spurs (one free end, short compared with the local radius)
    spur_px = P.spur_um / det_um
    kept = []
    for e in edges:
        if (e.nodes[0] < 0) != (e.nodes[1] < 0):
            node_end = e.pts[0] if e.nodes[0] >= 0 else e.pts[-1]
            rloc = float(dist[int(node_end[0]), int(node_end[1])])
            if e.length < max(spur_px, P.spur_r * rloc):
                continue
        kept.append(e)
    edges = kept
    t_graph0 = time.perf_counter()
    reach = max(3.0, 80.0 / det_um)
    if P.bridge_k > 0:
        edges, cents = _contract_bridges(
            edges, cents, dist, reach, P.pair_cos, P.bridge_um / det_um, P.bridge_k
        )
    paths, passages = _decompose(edges, cents, reach, P.pair_cos, P.passage_um / det_um)
    k_corner = max(2, round(50.0 / det_um))
    split = []
    for p, through in zip(paths, passages, strict=True):
        keep = np.zeros(len(p), bool)
        for j in through:  # the skeleton kinks where a paired junction joins two edges
            keep[max(j - k_corner, 0) : j + k_corner + 1] = True
        split += _split_corners(p, k_corner, P.corner_deg, keep)
    paths = split
    k_corner2 = max(3, round(P.corner2_um / det_um))
    paths = [q for p in paths for q in _split_corners(p, k_corner2, P.corner2_deg)]
    # to full-resolution (x, y) polylines
    off = (scale - 1) / 2.0
    min_len = P.min_length_um / um
    min_blen = P.min_border_length_um / um
    paths = [p for p in paths if len(p) >= 2]
    if paths:
        allp = np.concatenate(paths)
        gid = np.repeat(np.arange(len(paths)), [len(p) for p in paths])
        iy = np.clip(allp[:, 0].astype(int), 0, dist.shape[0] - 1)
        ix = np.clip(allp[:, 1].astype(int), 0, dist.shape[1] - 1)
        rmed = _group_median(dist[iy, ix].astype(np.float64), gid, len(paths))
    cand_polys, cand_r = [], []
    for k, p in enumerate(paths):
        cand_r.append(max(float(rmed[k]) * scale, 1.0))
        xy = np.stack([p[:, 1] * scale + off, p[:, 0] * scale + off], 1)
        cand_polys.append(_smooth_resample(xy, 2.0))
    if P.merge:
        cand_polys, cand_r = _merge_fragments(
            cand_polys,
            cand_r,
            P.merge_gap_um / um,
            support=above_low,
            scale=scale,
            max_covered_gap=P.covered_gap_um / um,
        )
    polys, radii = [], []
    for poly, r_loc in zip(cand_polys, cand_r, strict=False):
        raw_length = float(np.hypot(*np.diff(poly, axis=0).T).sum())
        # skeletons stop short of the hair tips: extend free ends by the local radius
        length = raw_length
        ext = min(r_loc * P.tip_ext, 0.25 * length)
        for end in (0, -1):
            other = poly[min(3, len(poly) - 1)] if end == 0 else poly[max(-4, -len(poly))]
            v = poly[end] - other
            nv = float(np.hypot(*v))
            if nv > 0:
                poly[end] = poly[end] + v / nv * ext
        poly = _reach_border(poly, r_loc, mask, scale, (W, H))
        poly[:, 0] = np.clip(poly[:, 0], 0, W - 1)
        poly[:, 1] = np.clip(poly[:, 1], 0, H - 1)
        length = float(np.hypot(*np.diff(poly, axis=0).T).sum())
        at_border = (
            poly[:, 0].min() <= 2 * scale
            or poly[:, 1].min() <= 2 * scale
            or poly[:, 0].max() >= W - 1 - 2 * scale
            or poly[:, 1].max() >= H - 1 - 2 * scale
        )
        if raw_length < (min_blen if at_border else min_len):
            continue
        if not at_border and raw_length < P.min_elongation * 2 * r_loc:
            continue
        polys.append(poly)
        radii.append(r_loc)
    t_graph = time.perf_counter()
    dirs = []
    for poly in polys:
        q = (poly - off) / scale
        v = cv2.remap(
            diff,
            q[:, 0:1].astype(np.float32).T,
            q[:, 1:2].astype(np.float32).T,
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )[0]
        d = v.mean(axis=0)
        n = float(np.linalg.norm(d))
        dirs.append(d / n if n > 1e-6 else np.array([-1.0, -1.0, -1.0]) / math.sqrt(3))
    groups, widths, sigmas = _profiles(
        rgb, bg_small, float(scale), dirs, polys, radii, P.section_step_px
    )
    # global edge blur from the wide hairs (where the slope method is unbiased)
    wide = np.concatenate([widths[g] for g in groups]) if groups else np.zeros(0)
    sg = np.concatenate([sigmas[g] for g in groups]) if groups else np.zeros(0)
    ok = np.isfinite(wide) & np.isfinite(sg) & (wide > 7.0)
    blur_px = float(np.median(sg[ok])) if ok.sum() >= 20 else 0.8
    blur_px = float(np.clip(blur_px, 0.3, 6.0))
    tw, tf = _fwhm_table(blur_px)
    owner = np.zeros(len(widths), np.int64)
    for k, g in enumerate(groups):
        owner[g] = k
    wmed = _group_median(widths, owner, len(groups))
    diam_px = _true_width(wmed, tf, tw)
    polys, diam_px = _split_wedges(polys, diam_px, owner, widths, tf, tw)
    t_prof = time.perf_counter()
    frame = (
        CountingFrame.for_shape((H, W))
        if frame_margin_px is None
        else CountingFrame.for_shape((H, W), frame_margin_px)
    )
    hairs = []
    for poly, dpx in zip(polys, diam_px, strict=False):
        if not np.isfinite(dpx):
            continue
        dum = dpx * um
        length = float(np.hypot(*np.diff(poly, axis=0).T).sum()) * um
        x, y = designated_end(poly)
        hairs.append(
            Hair(
                id=len(hairs),
                polyline=tuple(map(tuple, np.round(poly, 2).tolist())),
                length_um=length,
                diameter_um=float(dum),
                kind="vellus" if dum <= vellus_max_um else "terminal",
                counted=frame.contains(x, y),
                unit_id=-1,
            )
        )
    hairs, units = _group_units(hairs, um)
    counted = [h for h in hairs if h.counted]
    area_cm2 = frame.area_px * (um * 1e-4) ** 2
    dia = np.array([h.diameter_um for h in counted])
    hist = []
    if len(dia):
        top = math.ceil(max(dia.max(), 10.0) / 10.0) * 10
        edges_h = np.arange(0, top + 10, 10)
        cnt, _ = np.histogram(dia, bins=edges_h)
        hist = [(float(a), float(a + 10), int(c)) for a, c in zip(edges_h[:-1], cnt, strict=False)]
    limit_um = _resolution_limit(tf, tw) * um
    quality = _quality(rgb, small, counted, blur_px * um, 1.0, c_hair, min_hairs, limit_um)
    t_end = time.perf_counter()
    return TrichometryResult(
        hairs=tuple(hairs),
        hair_count=len(counted),
        area_cm2=area_cm2,
        density_per_cm2=len(counted) / area_cm2 if area_cm2 > 0 else 0.0,
        terminal_count=sum(1 for h in counted if h.kind == "terminal"),
        vellus_count=sum(1 for h in counted if h.kind == "vellus"),
        vellus_max_um=float(vellus_max_um),
        mean_diameter_um=float(dia.mean()) if len(dia) else None,
        median_diameter_um=float(np.median(dia)) if len(dia) else None,
        diameters_um=tuple(float(x) for x in dia),
        diameter_histogram=tuple(hist),
        cumulative_thickness_mm_per_cm2=float(dia.sum() / 1000.0 / area_cm2) if area_cm2 else 0.0,
        follicular_units=units,
        quality=quality,
        um_per_px=um,
        image_shape=(H, W),
        frame=frame,
        timings_ms={
            "load": 1e3 * (t_load - t0),
            "mask": 1e3 * (t_mask - t_load),
            "skeleton": 1e3 * (t_graph0 - t_mask),
            "paths": 1e3 * (t_graph - t_graph0),
            "profiles": 1e3 * (t_prof - t_graph),
            "total": 1e3 * (t_end - t0),
        },
    )


def _split_wedges(
    polys: list[np.ndarray],
    diam_px: np.ndarray,
    owner: np.ndarray,
    widths: np.ndarray,
    fwhm: np.ndarray,
    true_w: np.ndarray,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Split paths that are two hairs of one follicular unit lying side by side.

    Hairs of a unit leave their shared ostium at a small angle; when they never part within the
    image the mask is one wedge whose width grows steadily from the ostium (one shaft) to the
    distal end (two shafts side by side), while a single clipped hair keeps its width. Such a
    path becomes two hairs diverging from the narrow end, each with the narrow-end diameter.
    """
    if P.wedge_ratio <= 0 or not polys:
        return polys, diam_px
    # the sections run along the path (``owner``: the path of each section, in order): a
    # straight-line fit of width against position, for all paths at once, gives the single
    # shaft at one end and the two side by side at the other
    n_paths = len(polys)
    ok = np.isfinite(widths)
    wv, ov = widths[ok], owner[ok]
    n = np.bincount(ov, minlength=n_paths)
    first = np.concatenate([[0], np.cumsum(n)[:-1]])
    pos = (np.arange(len(wv)) - first[ov]) / np.maximum(n[ov] - 1, 1) - 0.5
    sxx = np.bincount(ov, pos * pos, n_paths)
    slope = np.bincount(ov, pos * wv, n_paths) / np.maximum(sxx, 1e-12)
    mean = np.bincount(ov, wv, n_paths) / np.maximum(n, 1)
    lo, hi = mean - 0.5 * np.abs(slope), mean + 0.5 * np.abs(slope)
    candidate = (n >= 9) & np.isfinite(diam_px) & (lo > 0) & (hi >= P.wedge_ratio * lo)
    out_p, out_d = [], []
    for k, (poly, dpx) in enumerate(zip(polys, diam_px, strict=True)):
        wedge = bool(candidate[k])
        if wedge:  # the width must grow steadily, not jump at a crossing near one end
            w = wv[first[k] : first[k] + n[k]]
            pos_k = np.linspace(-0.5, 0.5, n[k])
            rho = np.corrcoef(np.argsort(np.argsort(w)), pos_k)[0, 1]
            quarters = np.array([np.median(c) for c in np.array_split(w, 4)])
            monotone = bool((np.diff(quarters) * np.sign(slope[k]) >= 0).all())
            wedge = abs(rho) >= P.wedge_rho and monotone
        if not wedge:
            out_p.append(poly)
            out_d.append(dpx)
            continue
        q = poly if slope[k] > 0 else poly[::-1]  # from the narrow (ostium) end
        seg = np.hypot(*np.diff(q, axis=0).T)
        sfrac = np.concatenate([[0.0], np.cumsum(seg)]) / max(seg.sum(), 1e-9)
        tang = np.gradient(q, axis=0)
        nrm = np.stack([-tang[:, 1], tang[:, 0]], 1)
        nrm /= np.maximum(np.hypot(nrm[:, 0], nrm[:, 1]), 1e-9)[:, None]
        shift = (sfrac * (hi[k] - lo[k]) / 2.0)[:, None] * nrm
        d_one = float(_true_width(lo[k], fwhm, true_w))
        out_p += [q + shift, q - shift]
        out_d += [d_one, d_one]
    return out_p, np.asarray(out_d, dtype=float)


def _true_width(fwhm_px, fwhm: np.ndarray, true_w: np.ndarray) -> np.ndarray:
    """Shaft widths for measured full widths at half contrast (inverse of the blur table).

    NaN (no width measured) stays NaN. A profile at most 5 % wider than the blur's own is
    below the resolution limit: it reads as that limit (an upper bound, see
    :func:`_resolution_limit`).
    """
    w = np.asarray(fwhm_px, dtype=float)
    floor = RESOLVED_FWHM * fwhm[0]
    limit = _resolution_limit(fwhm, true_w)
    return np.where(np.isfinite(w), np.where(w > floor, np.interp(w, fwhm, true_w), limit), np.nan)


def _resolution_limit(fwhm: np.ndarray, true_w: np.ndarray) -> float:
    """Narrowest shaft width (px) the blur lets the profile tell apart from no width at all."""
    return float(np.interp(RESOLVED_FWHM * fwhm[0], fwhm, true_w))


def _group_units(hairs: list[Hair], um: float) -> tuple[list[Hair], tuple[tuple[int, ...], ...]]:
    """Group hairs whose ends meet (within 120 um) into follicular units."""
    n = len(hairs)
    if n == 0:
        return hairs, ()
    ends = np.array([[h.polyline[0], h.polyline[-1]] for h in hairs]).reshape(-1, 2)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    from scipy.spatial import cKDTree

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb

    tol = 120.0 / um
    for i, j in cKDTree(ends).query_pairs(tol):
        if i // 2 != j // 2:
            union(i // 2, j // 2)
    # an end touching another hair close to that hair's end (Y-shaped units)
    pts, own, pos = [], [], []
    for k, h in enumerate(hairs):
        p = np.asarray(h.polyline)
        seg = np.hypot(*np.diff(p, axis=0).T)
        s = np.concatenate([[0.0], np.cumsum(seg)])
        pts.append(p)
        own.append(np.full(len(p), k))
        pos.append(np.minimum(s, s[-1] - s))
    tree = cKDTree(np.concatenate(pts))
    own_a, pos_a = np.concatenate(own), np.concatenate(pos)
    near_end = 400.0 / um
    for e, hits in enumerate(tree.query_ball_point(ends, 40.0 / um)):
        for q in hits:
            if own_a[q] != e // 2 and pos_a[q] <= near_end:
                union(e // 2, int(own_a[q]))
    roots: dict[int, list[int]] = {}
    for i in range(n):
        roots.setdefault(find(i), []).append(i)
    units = []
    unit_of = {}
    for members in roots.values():
        if len(members) >= 2:
            uid = len(units)
            units.append(tuple(members))
            for m in members:
                unit_of[m] = uid
    out = [replace(h, unit_id=unit_of.get(h.id, -1)) for h in hairs]
    return out, tuple(units)


def _quality(
    rgb, small, counted, blur_um, sigma_n, c_hair, min_hairs, limit_um
) -> tuple[QualityFlag, ...]:
    lum = cv2.transform(small, np.full((1, 3), 1.0 / 3.0, np.float32))
    clipped = float(((lum >= 250) | (lum <= 5)).mean())
    med = float(np.median(lum))
    usable = float(((lum > 20) & (lum < 250)).mean())
    cnr = c_hair / max(sigma_n, 1e-6)
    at_limit = sum(1 for h in counted if h.diameter_um <= limit_um * (1 + 1e-9))
    unresolved = at_limit / len(counted) if counted else 0.0
    return (
        QualityFlag(
            "focus",
            round(blur_um, 2),
            15.0,
            blur_um <= 15.0,
            "edge blur sigma (um) of hair profiles; re-focus if above threshold",
        ),
        QualityFlag(
            "exposure",
            round(clipped, 4),
            0.02,
            clipped <= 0.02 and 40 <= med <= 235,
            "fraction of clipped (saturated or black) pixels; median luminance "
            f"{med:.0f} should be 40-235",
        ),
        QualityFlag(
            "coverage",
            round(usable, 4),
            0.9,
            usable >= 0.9,
            "fraction of the field that is usable skin (not black or saturated)",
        ),
        QualityFlag("contrast", round(cnr, 2), 4.0, cnr >= 4.0, "hair contrast to noise ratio"),
        QualityFlag(
            "unresolved_diameters",
            round(unresolved, 4),
            0.1,
            unresolved <= 0.1,
            f"fraction of counted hairs thinner than the blur resolves ({limit_um:.1f} um, "
            "reported at that limit as an upper bound); re-focus or use a higher magnification",
        ),
        QualityFlag(
            "too_few_hairs",
            float(len(counted)),
            float(min_hairs),
            len(counted) >= min_hairs,
            "counted hairs; below threshold the density is unreliable",
        ),
    )
