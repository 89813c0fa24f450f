"""Stage 3a: the skeleton as a graph of edges (pixel paths) between junction clusters."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

# the 8-ring of a pixel, clockwise from north; bit k of a ring code is neighbour k
_OFFS = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]
_RING_W = np.zeros((3, 3), np.float32)
for _k, (_dy, _dx) in enumerate(_OFFS):
    _RING_W[1 + _dy, 1 + _dx] = float(1 << _k)
_CODES = np.arange(256)
_BITS = (_CODES[:, None] >> np.arange(8)[None, :]) & 1
_COUNT_LUT = _BITS.sum(axis=1).astype(np.uint8)
_TRANS_LUT = ((_BITS == 0) & (np.roll(_BITS, -1, axis=1) == 1)).sum(axis=1).astype(np.uint8)


def _neighbours(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Neighbour count and crossing number of every pixel.

    Parameters
    ----------
    mask : ndarray of bool, shape (h, w)

    Returns
    -------
    count : ndarray of uint8, shape (h, w)
        Set pixels among the 8 neighbours.
    transitions : ndarray of uint8, shape (h, w)
        0->1 transitions around the 8-ring (3 or more at a branch point, 1 at an end).
    """
    code = cv2.filter2D(mask.astype(np.float32), -1, _RING_W, borderType=cv2.BORDER_CONSTANT)
    code = code.astype(np.uint8)
    return _COUNT_LUT[code], _TRANS_LUT[code]


def _pixel_graph(mask: np.ndarray) -> tuple[np.ndarray, sparse.csr_matrix]:
    """8-neighbour graph of the set pixels of a mask.

    Parameters
    ----------
    mask : ndarray of bool, shape (h, w)

    Returns
    -------
    index : ndarray of int64, shape (h, w)
        Node index of each set pixel, -1 elsewhere.
    adjacency : scipy.sparse.csr_matrix, shape (n, n)
        Symmetric; weight 1 between 4-neighbours, sqrt(2) between diagonal ones.
    """
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
class Edge:
    """A skeleton path between two junction clusters (or free ends).

    Attributes
    ----------
    pts : ndarray of float, shape (n, 2)
        Ordered detection-scale pixel coordinates ``(y, x)``.
    length : float
        Path length, px.
    nodes : list of int
        Junction cluster at the start and at the end, -1 for a free end.
    """

    pts: np.ndarray
    length: float
    nodes: list[int]


def build_graph(skel: np.ndarray, merge_px: float) -> tuple[list[Edge], np.ndarray]:
    """Split a skeleton into edges between junction clusters.

    Parameters
    ----------
    skel : ndarray of bool, shape (h, w)
        One-pixel-wide skeleton.
    merge_px : float
        Junction pixels closer than this form one cluster.

    Returns
    -------
    edges : list of Edge
    centroids : ndarray of float, shape (n_nodes, 2)
        Junction cluster centroids ``(y, x)``, indexed by :attr:`Edge.nodes`.
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
        kept.append(Edge(pts=e.pts + shift, length=e.length, nodes=nodes))
    return kept, np.concatenate([centroids, sub_cents + shift]) if len(sub_cents) else centroids


def _graph_at(
    skel: np.ndarray, junction: np.ndarray, merge_px: float
) -> tuple[list[Edge], np.ndarray]:
    """Edges and junction-cluster centroids of a skeleton for given junction pixels.

    Parameters
    ----------
    skel : ndarray of bool, shape (h, w)
    junction : ndarray of bool, shape (h, w)
        Junction pixels of ``skel``.
    merge_px : float
        Junction pixels closer than this form one cluster.

    Returns
    -------
    edges : list of Edge
    centroids : ndarray of float, shape (n_nodes, 2)
    """
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
        edges.append(Edge(pts=pts, length=length, nodes=[a, b]))
    return edges, centroids
