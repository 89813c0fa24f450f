"""Every tuning constant of the trichometry engine, with its unit.

Units are in the field names: ``_um`` micrometres (converted to pixels with the image's
calibration), ``_px`` pixels (at detection scale unless the docstring says full resolution),
``_k`` multiples of the noise (the contrast image is in noise units), ``_deg`` degrees; the
others are ratios or counts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Params:
    """Thresholds of the detection pipeline (defaults are the validated ones).

    Detection scale and contrast
    ----------------------------
    detect_um_per_px : float
        Resolution hairs are detected at; the image is down-sampled by an integer factor.
    background_um : float
        Cell size of the coarse hair-free background estimate.
    candidate_mads : float
        First background pass: pixels whose colour difference exceeds the median by this many
        robust standard deviations (MAD) ...
    candidate_percentile : float
        ... or is above this percentile are hair candidates, excluded from the background.
    exclude_px : int
        The candidates are dilated by a square of this side before exclusion.
    background_k : float
        Second pass: whitened contrast above which a pixel is hair and excluded as well.

    Mask (hysteresis threshold)
    ---------------------------
    strong_k : float
        Pixels above this contrast set the typical hair contrast (their median); it is also
        the typical contrast assumed when fewer than ``min_strong_px`` pixels pass.
    min_strong_px : int
        Strong pixels needed to measure the typical hair contrast.
    low_k, high_k : float
        Floors of the low and high hysteresis thresholds.
    low_rel, high_rel : float
        Low and high thresholds as fractions of the typical hair contrast (if higher).
    local_um : float
        Window of the local-maximum rule ...
    local_rel : float
        ... which keeps pixels above this fraction of the window's maximum contrast.
    min_blob_um : float
        Side of the smallest kept connected component (its area is this squared).
    hole_um : float
        Side of the largest hole filled inside the mask (shallow crossings).
    min_area_px : int
        Floor of both areas, in detection-scale pixels.

    Skeleton graph and paths
    ------------------------
    merge_um : float
        Junction pixels closer than this form one junction cluster.
    spur_um : float
        Side branches with a free end shorter than this ...
    spur_radii : float
        ... or than this many local mask radii are pruned.
    reach_um, min_reach_px : float
        Branch directions at a junction are taken over this length (at least this many px).
    pair_cos : float
        Two branches continue each other when the cosine of their directions is below this.
    bridge_k : float
        Shallow crossings: a bridge between two junctions is contracted when shorter than
        this many local radii / sin(half the crossing angle) ...
    bridge_um : float
        ... and than this length.
    passage_um : float
        No corner split where a paired junction joins two edges at least this long.
    corner_um, min_corner_px : float, int
        Arm length of the first corner test (at least this many px) ...
    corner_deg : float
        ... which splits paths turning more than this (V-shaped pairs from one ostium).
    corner2_um, min_corner2_px, corner2_deg : float, int, float
        The same on longer arms, for gentler corners.

    Polylines and fragments
    -----------------------
    resample_step_px : float
        Full-resolution point spacing of the smoothed polylines.
    merge_gap_um : float
        Collinear fragments whose facing ends are this close (plus their radii) are joined ...
    covered_gap_um : float
        ... and gaps up to this long when hair contrast bridges them ...
    merge_cos : float
        ... when both end tangents point at the other end within this cosine ...
    merge_radius_ratio : float
        ... and the radii differ by at most this factor (plus one detection pixel).
    tip_ext_radii : float
        Free ends are extended by this many radii (skeletons stop short of the tips).
    border_radii, border_scales : float
        Ends within this many radii plus this many detection pixels of the border may be
        carried out to it.
    border_margin_scales : float
        A path within this many detection pixels of the border is a border hair ...
    min_border_length_um : float
        ... kept from this length on; other hairs from ``min_length_um``
    min_length_um : float
        and only if at least ``min_elongation`` times as long as wide.
    min_elongation : float
        See ``min_length_um``.

    Diameters
    ---------
    section_step_px : float
        Full-resolution spacing of the cross-sections along each hair.
    blur_min_width_px : float
        Only sections wider than this (full resolution) measure the edge blur ...
    blur_min_sections : int
        ... and at least this many of them; otherwise ``default_blur_px`` is used.
    default_blur_px, min_blur_px, max_blur_px : float
        Edge blur (Gaussian sigma, full-resolution px) assumed, and its clamp.
    wedge_ratio : float
        Follicular units lying side by side: far-end width / ostium width at least this ...
    wedge_rho : float
        ... with this rank correlation of width with position along the path ...
    min_wedge_sections : int
        ... measured on at least this many sections.

    Follicular units
    ----------------
    unit_end_um : float
        Hairs whose ends are this close share an ostium ...
    unit_touch_um : float
        ... as do hairs whose end is this close to another hair's shaft ...
    unit_near_end_um : float
        ... within this distance of that hair's end (Y-shaped units).

    Quality flags
    -------------
    max_blur_um : float
        Focus: edge blur above this asks for re-focusing.
    max_clipped_fraction : float
        Exposure: fraction of pixels at or beyond ``clipped_dark``/``clipped_bright`` ...
    min_median_luminance, max_median_luminance : float
        ... and the median luminance range (grey levels).
    clipped_dark, clipped_bright : float
        Grey levels counted as clipped (black or saturated).
    usable_dark : float
        Coverage: pixels brighter than this and darker than ``clipped_bright`` are usable ...
    min_usable_fraction : float
        ... and at least this fraction of the field must be.
    min_contrast_k : float
        Contrast: typical hair contrast, in noise units, at least this.
    max_unresolved_fraction : float
        Counted hairs thinner than the blur resolves: at most this fraction.
    """

    detect_um_per_px: float = 12.0
    background_um: float = 96.0
    candidate_mads: float = 4.0
    candidate_percentile: float = 99.0
    exclude_px: int = 7
    background_k: float = 6.0

    strong_k: float = 8.0
    min_strong_px: int = 50
    low_k: float = 3.2
    high_k: float = 5.5
    low_rel: float = 0.12
    high_rel: float = 0.25
    local_um: float = 70.0
    local_rel: float = 0.5
    min_blob_um: float = 60.0
    hole_um: float = 40.0
    min_area_px: int = 4

    merge_um: float = 40.0
    spur_um: float = 70.0
    spur_radii: float = 1.3
    reach_um: float = 80.0
    min_reach_px: float = 3.0
    pair_cos: float = -0.82
    bridge_k: float = 2.5
    bridge_um: float = 800.0
    passage_um: float = 150.0
    corner_um: float = 50.0
    min_corner_px: int = 2
    corner_deg: float = 50.0
    corner2_um: float = 120.0
    min_corner2_px: int = 3
    corner2_deg: float = 30.0

    resample_step_px: float = 2.0
    merge_gap_um: float = 60.0
    covered_gap_um: float = 300.0
    merge_cos: float = 0.9
    merge_radius_ratio: float = 1.7
    tip_ext_radii: float = 0.8
    border_radii: float = 2.5
    border_scales: float = 3.0
    border_margin_scales: float = 2.0
    min_border_length_um: float = 60.0
    min_length_um: float = 200.0
    min_elongation: float = 2.5

    section_step_px: float = 3.0
    blur_min_width_px: float = 7.0
    blur_min_sections: int = 20
    default_blur_px: float = 0.8
    min_blur_px: float = 0.3
    max_blur_px: float = 6.0
    wedge_ratio: float = 1.7
    wedge_rho: float = 0.5
    min_wedge_sections: int = 9

    unit_end_um: float = 120.0
    unit_touch_um: float = 40.0
    unit_near_end_um: float = 400.0

    max_blur_um: float = 15.0
    max_clipped_fraction: float = 0.02
    min_median_luminance: float = 40.0
    max_median_luminance: float = 235.0
    clipped_dark: float = 5.0
    clipped_bright: float = 250.0
    usable_dark: float = 20.0
    min_usable_fraction: float = 0.9
    min_contrast_k: float = 4.0
    max_unresolved_fraction: float = 0.1


DEFAULT_PARAMS = Params()
