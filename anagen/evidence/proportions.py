"""Confidence intervals for a proportion: Wilson score and exact Clopper-Pearson."""

from __future__ import annotations

import math

from scipy import stats


def _check(k: int, n: int, confidence: float) -> None:
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def wilson_ci(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials.

    Parameters
    ----------
    k, n
        Successes and trials (``0 <= k <= n``).
    confidence
        Two-sided confidence level.

    Returns
    -------
    tuple of float
        ``(low, high)``; ``(nan, nan)`` when ``n == 0``.
    """
    _check(k, n, confidence)
    if n == 0:
        return math.nan, math.nan
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def clopper_pearson_ci(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval for ``k`` successes in ``n`` trials.

    Parameters
    ----------
    k, n
        Successes and trials (``0 <= k <= n``).
    confidence
        Two-sided confidence level.

    Returns
    -------
    tuple of float
        ``(low, high)`` from beta quantiles; 0 and 1 at the edges; ``(nan, nan)`` when
        ``n == 0``.
    """
    _check(k, n, confidence)
    if n == 0:
        return math.nan, math.nan
    alpha = 1.0 - confidence
    low = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return low, high
