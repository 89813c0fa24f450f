"""Stage 3b: hair paths through the skeleton graph.

Spurs are pruned, the two junctions of a shallow crossing contracted into one, branches
paired by good continuation so that crossings split into two hairs and follicular units
(Y shapes) into one hair per branch, and sharp corners split V shapes.
"""

from __future__ import annotations

import math

import numpy as np

from anagen.trichometry._graph import Edge
from anagen.trichometry._params import Params


def hair_paths(
    edges: list[Edge], centroids: np.ndarray, dist: np.ndarray, det_um: float, params: Params
) -> list[np.ndarray]:
    """One path per hair through the skeleton graph.

    Parameters
    ----------
    edges : list of Edge
        Skeleton graph edges (see :func:`anagen.trichometry._graph.build_graph`).
    centroids : ndarray of float, shape (n_nodes, 2)
        Junction centroids ``(y, x)``.
    dist : ndarray of float32, shape (h, w)
        Distance to the background inside the mask (the local radius), px.
    det_um : float
        Detection-scale calibration, micrometres per pixel.
    params : Params

    Returns
    -------
    list of ndarray of float, shape (n, 2)
        Detection-scale paths ``(y, x)``.
    """
    edges = _prune_spurs(edges, dist, params.spur_um / det_um, params.spur_radii)
    reach = max(params.min_reach_px, params.reach_um / det_um)
    if params.bridge_k > 0:
        edges, centroids = _contract_bridges(
            edges,
            centroids,
            dist,
            reach,
            params.pair_cos,
            params.bridge_um / det_um,
            params.bridge_k,
        )
    paths, passages = _decompose(
        edges, centroids, reach, params.pair_cos, params.passage_um / det_um
    )
    arm = max(params.min_corner_px, round(params.corner_um / det_um))
    split = []
    for p, through in zip(paths, passages, strict=True):
        keep = np.zeros(len(p), bool)
        for j in through:  # the skeleton kinks where a paired junction joins two edges
            keep[max(j - arm, 0) : j + arm + 1] = True
        split += _split_corners(p, arm, params.corner_deg, keep)
    arm2 = max(params.min_corner2_px, round(params.corner2_um / det_um))
    return [q for p in split for q in _split_corners(p, arm2, params.corner2_deg)]


def _prune_spurs(
    edges: list[Edge], dist: np.ndarray, spur_px: float, spur_radii: float
) -> list[Edge]:
    """Drop side branches with a free end that are short compared with the local radius.

    Parameters
    ----------
    edges : list of Edge
    dist : ndarray of float32, shape (h, w)
        Local radius, px.
    spur_px : float
        Spurs shorter than this are dropped ...
    spur_radii : float
        ... and those shorter than this many radii at their junction.

    Returns
    -------
    list of Edge
    """
    kept = []
    for e in edges:
        if (e.nodes[0] < 0) != (e.nodes[1] < 0):
            node_end = e.pts[0] if e.nodes[0] >= 0 else e.pts[-1]
            r_junction = float(dist[int(node_end[0]), int(node_end[1])])
            if e.length < max(spur_px, spur_radii * r_junction):
                continue
        kept.append(e)
    return kept


def _direction(pts: np.ndarray, reach: float) -> np.ndarray:
    """Unit direction pointing from ``pts[0]`` into a path.

    Parameters
    ----------
    pts : ndarray of float, shape (n, 2)
    reach : float
        Length (px) over which the direction is averaged.

    Returns
    -------
    ndarray of float, shape (2,)
        Zero for a degenerate path.
    """
    d = np.sqrt(((pts - pts[0]) ** 2).sum(axis=1))
    k = int(np.searchsorted(d, reach)) if d[-1] >= reach else len(pts) - 1
    k = max(k, min(1, len(pts) - 1))
    v = pts[k] - pts[0]
    if k > 0:
        v = pts[1 : k + 1].mean(axis=0) - pts[0]
    n = float(np.hypot(*v))
    return v / n if n > 0 else np.zeros(2)


def _branches(edges: list[Edge]) -> dict[int, list[tuple[int, int]]]:
    """The branches at each junction.

    Parameters
    ----------
    edges : list of Edge

    Returns
    -------
    dict of int to list of tuple of int
        ``node -> [(edge index, end 0 or 1), ...]``.
    """
    at_node: dict[int, list[tuple[int, int]]] = {}
    for ei, e in enumerate(edges):
        for end in (0, 1):
            if e.nodes[end] >= 0:
                at_node.setdefault(e.nodes[end], []).append((ei, end))
    return at_node


def _decompose(
    edges: list[Edge],
    centroids: np.ndarray,
    reach: float,
    pair_cos: float,
    min_passage_px: float = 0.0,
) -> tuple[list[np.ndarray], list[list[int]]]:
    """Join edges into hair paths by pairing branches with good continuation at junctions.

    Parameters
    ----------
    edges : list of Edge
    centroids : ndarray of float, shape (n_nodes, 2)
        Junction centroids ``(y, x)``.
    reach : float
        Length (px) over which branch directions are taken.
    pair_cos : float
        Two branches continue each other when the cosine of their directions is below this.
    min_passage_px : float, optional
        See ``passages``.

    Returns
    -------
    paths : list of ndarray of float, shape (n, 2)
        ``(y, x)`` paths.
    passages : list of list of int
        For each path, the point indices of the junctions it passes through between two
        edges at least ``min_passage_px`` long.
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
    edges: list[Edge],
    centroids: np.ndarray,
    dist: np.ndarray,
    reach: float,
    pair_cos: float,
    max_len: float,
    k_radius: float,
) -> tuple[list[Edge], np.ndarray]:
    """Merge the two junctions of a shallow crossing into one four-way junction.

    Two hairs crossing at a shallow angle overlap over a stretch; its skeleton is a short
    *bridge* between two three-way junctions. Each hair enters at one junction and leaves at
    the other, so the bridge is contracted when the four outer branches form two
    anti-collinear pairs across it; pairing at the merged junction then splits the crossing.

    Parameters
    ----------
    edges : list of Edge
    centroids : ndarray of float, shape (n_nodes, 2)
    dist : ndarray of float32, shape (h, w)
        Local radius, px.
    reach : float
        Length (px) of ordinary branch directions (three times this is used here).
    pair_cos : float
        Cosine below which two branches are anti-collinear.
    max_len : float
        Longest bridge contracted, px ...
    k_radius : float
        ... and at most this many radii / sin(half the crossing angle).

    Returns
    -------
    edges : list of Edge
        Without the contracted bridges; their second junction renamed to the first.
    centroids : ndarray of float, shape (n_nodes, 2)
        A merged junction sits halfway between the two.
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
        out.append(Edge(pts=e.pts, length=e.length, nodes=nodes))
    return out, cents


def _split_corners(
    path: np.ndarray, k: int, max_turn_deg: float, keep: np.ndarray | None = None
) -> list[np.ndarray]:
    """Split a path at sharp corners (V-shaped pairs of hairs from one ostium).

    Parameters
    ----------
    path : ndarray of float, shape (n, 2)
    k : int
        Arm length (points) of the turning-angle test.
    max_turn_deg : float
        Split where the path turns by at least this.
    keep : ndarray of bool, shape (n,), optional
        Points where no split may happen (junction passages the pairing has already judged a
        continuation: the skeleton kinks there).

    Returns
    -------
    list of ndarray of float
        Pieces sharing their split points.
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
