"""Per-patient calibration and forecast (a **model forecast**, never a promise).

Workflow
--------
1. :func:`calibrate` fits a patient's AGA severity and treatment response to the trichometry
   series of one target site (density in hairs/cm2 and mean shaft diameter at visit days,
   baseline = day 0, with the session days) by a grid likelihood on the deterministic
   mean-field model; the site's follicle density is profiled out in closed form.
   The diameter is calibrated to the patient's own baseline (``anchor_diameter``): the
   model's mean diameter is ``vellus + (d0 - vellus) * g(t)``, with ``g`` set by severity and
   response and ``d0`` the terminal (pre-loss) caliber, so for each grid point the ``d0`` that
   reproduces the measured baseline diameter is solved in closed form and kept. By default
   the fit itself still reads the absolute diameter against the population's caliber (one
   visit cannot tell thin hair from miniaturized hair); with ``terminal_diameter_prior_sd_um``
   the caliber is profiled in the likelihood too, under a Gaussian prior around the
   population's, and later diameters then inform the fit through their change from baseline.
2. :func:`forecast` draws (severity, response, follicle density) from that grid posterior, runs
   one stochastic automaton per ensemble member from AGA onset through the visits to the
   horizon, and reports median and 5-95 % band for two scenarios: *with further sessions* and
   *no further sessions*.

The treatment effect is the hypothesis of :class:`~anagen.follicles.params.TreatmentHypothesis`;
when no session has happened yet, the data cannot inform the response and its posterior is
the prior (flat over the grid), which widens the "with further sessions" band honestly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .meanfield import mean_field
from .params import MODEL_LABEL, ModelParameters, zone_factor
from .stochastic import DAYS_PER_YEAR, FollicleSimulator

FORECAST_LABEL = (
    "Model forecast from a stochastic hair-follicle model with a hypothetical treatment effect, "
    "fitted to this patient's measurements. It is not a prediction of your result and not a "
    "promise; real outcomes vary and the treatment is investigational."
)


@dataclass(frozen=True)
class Visit:
    """One trichometry measurement of the target site.

    Attributes
    ----------
    day : float
        Days from baseline (baseline = 0).
    density_per_cm2 : float
        Hairs present per cm2.
    mean_diameter_um : float or None
        Mean shaft diameter of the hairs present, um (optional).
    """

    day: float
    density_per_cm2: float
    mean_diameter_um: float | None = None


def _as_visits(
    observations: Iterable[Visit | Mapping[str, Any] | Sequence[float]],
) -> list[Visit]:
    visits = []
    for o in observations:
        if isinstance(o, Visit):
            v = o
        elif isinstance(o, Mapping):
            try:
                v = Visit(
                    float(o["day"]),
                    float(o["density_per_cm2"]),
                    None if o.get("mean_diameter_um") is None else float(o["mean_diameter_um"]),
                )
            except KeyError as exc:
                raise ValueError(f"observation is missing {exc.args[0]!r}") from None
        else:
            v = Visit(*o)
        if not (math.isfinite(v.day) and math.isfinite(v.density_per_cm2)):
            raise ValueError(f"observation values must be finite: {v}")
        if v.density_per_cm2 < 0:
            raise ValueError(f"density must be >= 0: {v}")
        visits.append(v)
    if not visits:
        raise ValueError("calibrate needs at least one observation (the baseline)")
    visits.sort(key=lambda v: v.day)
    if visits[0].day < 0:
        raise ValueError("visit days are counted from baseline and must be >= 0")
    return visits


@dataclass
class Calibration:
    """Result of :func:`calibrate`: a grid posterior over the patient's parameters.

    Attributes
    ----------
    severity, response : float
        Posterior means.
    severity_sd, response_sd : float
        Posterior standard deviations.
    severity_map, response_map : float
        Grid point of maximum posterior.
    follicles_per_cm2 : float
        Profiled follicle density at the MAP point.
    severity_grid, response_grid : ndarray
        Grid axes.
    posterior : ndarray
        Posterior probabilities, shape ``(len(severity_grid), len(response_grid))``.
    follicle_density_grid : ndarray
        Profiled follicle density at each grid point.
    visits, session_days, zone, years_since_onset, params :
        The inputs, kept for :func:`forecast`.
    terminal_diameter_grid : ndarray or None
        The patient's profiled terminal (pre-loss) shaft diameter at each grid point, um, chosen
        so that the model's mean diameter at the baseline visit equals the measured one; None
        when the diameter is not anchored (no measured diameter, or ``anchor_diameter=False``).
    terminal_diameter_um : float or None
        ``terminal_diameter_grid`` at the MAP point.
    """

    severity: float
    response: float
    severity_sd: float
    response_sd: float
    severity_map: float
    response_map: float
    follicles_per_cm2: float
    severity_grid: np.ndarray
    response_grid: np.ndarray
    posterior: np.ndarray
    follicle_density_grid: np.ndarray
    visits: list[Visit]
    session_days: tuple[float, ...]
    zone: str
    years_since_onset: float
    params: ModelParameters = field(repr=False)
    label: str = MODEL_LABEL
    terminal_diameter_grid: np.ndarray | None = field(default=None, repr=False)
    terminal_diameter_um: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (without the full grids)."""
        return {
            "label": self.label,
            "zone": self.zone,
            "years_since_onset": self.years_since_onset,
            "severity": {"mean": self.severity, "sd": self.severity_sd, "map": self.severity_map},
            "response": {"mean": self.response, "sd": self.response_sd, "map": self.response_map},
            "follicles_per_cm2": self.follicles_per_cm2,
            "terminal_diameter_um": self.terminal_diameter_um,
            "session_days": list(self.session_days),
            "visits": [v.__dict__ for v in self.visits],
        }


def calibrate(
    observations: Sequence[Visit | Mapping[str, Any]],
    *,
    session_days: Sequence[float] = (),
    zone: str = "vertex",
    years_since_onset: float = 5.0,
    params: ModelParameters | None = None,
    severity_grid: Sequence[float] | None = None,
    response_grid: Sequence[float] | None = None,
    density_sd_fraction: float = 0.08,
    diameter_sd_um: float = 3.0,
    anchor_diameter: bool = True,
    terminal_diameter_prior_sd_um: float | None = None,
) -> Calibration:
    """Fit AGA severity and treatment response of one patient site (mean-field grid likelihood).

    Parameters
    ----------
    observations : sequence of Visit or mapping
        Visits with ``day`` (from baseline), ``density_per_cm2`` and optionally
        ``mean_diameter_um`` (the keys of ``anagen trichometry analyze --json``).
    session_days : sequence of float
        Days of the treatment sessions done (from baseline).
    zone : str
        Scalp zone of the target site.
    years_since_onset : float
        Years between AGA onset and baseline (from history; severity and duration are
        otherwise confounded).
    params : ModelParameters, optional
        Model parameters.
    severity_grid, response_grid : sequence of float, optional
        Grids (defaults 0-1 step 0.05 and 0-2 step 0.1).
    density_sd_fraction : float
        Measurement SD of density as a fraction of the observed value (automated counting is
        within ~7-12 % of truth, Bokhari 2022); floor 3 hairs/cm2.
    diameter_sd_um : float
        Measurement SD of the mean diameter, um.
    anchor_diameter : bool
        Calibrate the diameter to the patient's own baseline: the terminal shaft diameter
        ``d0`` is solved per grid point so that the model's mean diameter at the first visit
        with a diameter equals the measured one, and :func:`forecast` rescales each member's
        diameters to it (the forecast starts from the patient's measured baseline). False: the
        population's ``d0`` (``params.alopecia.terminal_diameter_mean_um``) for everyone.
    terminal_diameter_prior_sd_um : float, optional
        With ``anchor_diameter``: also fit with the anchored ``d0`` (later diameters count by
        their change from baseline) plus a Gaussian prior of this SD around the population's
        caliber, um. None (default): the likelihood compares absolute diameters with the
        population's caliber, which identifies severity better when the patient's caliber is
        typical.

    Returns
    -------
    Calibration

    Raises
    ------
    ValueError
        On an unknown zone, negative inputs, or no observation.
    """
    params = params or ModelParameters()
    zf = zone_factor(zone)
    if not (math.isfinite(years_since_onset) and years_since_onset >= 0):
        raise ValueError("years_since_onset must be >= 0")
    if terminal_diameter_prior_sd_um is not None and not terminal_diameter_prior_sd_um > 0:
        raise ValueError("terminal_diameter_prior_sd_um (the caliber prior's SD) must be > 0")
    visits = _as_visits(observations)
    sess = tuple(sorted(float(s) for s in session_days))
    if any(s < 0 or not math.isfinite(s) for s in sess):
        raise ValueError("session days must be finite and >= 0 (days from baseline)")
    sev = np.asarray(
        severity_grid if severity_grid is not None else np.linspace(0, 1, 21), dtype=float
    )
    resp = np.asarray(
        response_grid if response_grid is not None else np.linspace(0, 2, 21), dtype=float
    )
    if zf == 0.0:
        sev = np.array([0.0])  # severity cannot act in a spared zone
    onset = -years_since_onset * DAYS_PER_YEAR
    days = np.array([v.day for v in visits])
    y = np.array([v.density_per_cm2 for v in visits])
    sd_y = np.maximum(3.0, density_sd_fraction * y)
    d_obs = np.array([np.nan if v.mean_diameter_um is None else v.mean_diameter_um for v in visits])
    has_d = np.isfinite(d_obs)
    anchored = anchor_diameter and bool(has_d.any())
    vellus_um = params.alopecia.vellus_diameter_um
    d0_population = params.alopecia.terminal_diameter_mean_um
    base = int(np.argmax(has_d))  # the first visit with a measured diameter
    loglik = np.empty((sev.size, resp.size))
    fgrid = np.empty_like(loglik)
    d0grid = np.full_like(loglik, d0_population)
    w = 1.0 / sd_y**2
    for i, s in enumerate(sev):
        ts = mean_field(
            days,
            n_follicles=1.0,
            params=params,
            severity=float(s),
            zone=zone,
            onset_day=onset,
            response=resp,
            sessions=sess,
            t_start=min(onset, 0.0),
            max_step_days=3.0,
        )
        vis = ts.visible  # R x V, per follicle
        F = (vis * y * w).sum(axis=1) / np.maximum((vis**2 * w).sum(axis=1), 1e-300)
        F = np.clip(F, 20.0, 500.0)
        chi = (((y - F[:, None] * vis) ** 2) * w).sum(axis=1)
        md = ts.mean_diameter_um  # R x V, with the population's d0
        if anchored:
            # md = vellus + (d0 - vellus) * g: solve for the d0 that meets the baseline diameter
            g = (md - vellus_um) / (d0_population - vellus_um)
            d0 = vellus_um + (d_obs[base] - vellus_um) / np.maximum(g[:, base], 1e-6)
            d0 = np.clip(d0, vellus_um + 1.0, 3.0 * d0_population)
            d0grid[i] = d0
            if terminal_diameter_prior_sd_um is not None:
                md = vellus_um + (d0[:, None] - vellus_um) * g
                chi = chi + ((d0 - d0_population) / terminal_diameter_prior_sd_um) ** 2
        if has_d.any():
            chi = chi + (((d_obs[has_d] - md[:, has_d]) / diameter_sd_um) ** 2).sum(axis=1)
        loglik[i] = -0.5 * chi
        fgrid[i] = F
    post = np.exp(loglik - loglik.max())
    post /= post.sum()
    ps, pr = post.sum(axis=1), post.sum(axis=0)
    s_mean, r_mean = float(ps @ sev), float(pr @ resp)
    imap = np.unravel_index(np.argmax(post), post.shape)
    return Calibration(
        severity=s_mean,
        response=r_mean,
        severity_sd=float(np.sqrt(max(0.0, ps @ sev**2 - s_mean**2))),
        response_sd=float(np.sqrt(max(0.0, pr @ resp**2 - r_mean**2))),
        severity_map=float(sev[imap[0]]),
        response_map=float(resp[imap[1]]),
        follicles_per_cm2=float(fgrid[imap]),
        severity_grid=sev,
        response_grid=resp,
        posterior=post,
        follicle_density_grid=fgrid,
        visits=visits,
        session_days=sess,
        zone=zone,
        years_since_onset=float(years_since_onset),
        params=params,
        terminal_diameter_grid=d0grid if anchored else None,
        terminal_diameter_um=float(d0grid[imap]) if anchored else None,
    )


@dataclass
class Forecast:
    """Ensemble forecast of one target site, two scenarios. A model forecast, not a promise.

    Attributes
    ----------
    days : ndarray
        Output days from baseline.
    scenarios : dict
        ``{"with_further_sessions": {...}, "no_further_sessions": {...}}``; each maps
        ``density_per_cm2``, ``terminal_density_per_cm2`` and ``mean_diameter_um`` to
        ``{"median", "p05", "p95"}`` lists, plus ``session_days``.
    members : int
        Ensemble size.
    area_cm2 : float
        Site area simulated.
    calibration : dict
        Summary of the calibration used.
    label : str
        States that this is a model forecast, not a promise.
    """

    days: np.ndarray
    scenarios: dict[str, dict[str, Any]]
    members: int
    area_cm2: float
    calibration: dict[str, Any]
    label: str = FORECAST_LABEL

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dictionary (lists and floats only)."""
        return {
            "label": self.label,
            "model": MODEL_LABEL,
            "days": [float(d) for d in self.days],
            "members": self.members,
            "area_cm2": self.area_cm2,
            "calibration": self.calibration,
            "scenarios": self.scenarios,
        }


def _band(x: np.ndarray) -> dict[str, list[float]]:
    q = np.nanpercentile(x, [5, 50, 95], axis=0)
    return {
        "p05": [round(float(v), 3) for v in q[0]],
        "median": [round(float(v), 3) for v in q[1]],
        "p95": [round(float(v), 3) for v in q[2]],
    }


def forecast(
    calibration: Calibration,
    *,
    horizon_days: float = 730.0,
    further_sessions: Sequence[float] | None = None,
    session_interval_days: float = 60.0,
    last_further_session_day: float = 365.0,
    members: int = 1000,
    area_cm2: float = 1.0,
    step_days: float = 30.0,
    seed: int = 0,
) -> Forecast:
    """Forecast a patient site to ``horizon_days`` with and without further sessions.

    Parameters
    ----------
    calibration : Calibration
        Output of :func:`calibrate`.
    horizon_days : float
        Forecast horizon from baseline (default 24 months).
    further_sessions : sequence of float, optional
        Planned future session days. Default: every ``session_interval_days`` after the last
        session (the first one not before the day after the last visit) up to
        ``last_further_session_day``.
    session_interval_days, last_further_session_day : float
        Default plan (DESIGN.md: repeat sessions about every 2 months).
    members : int
        Ensemble size (each member: parameters drawn from the posterior + one stochastic run).
    area_cm2 : float
        Site area (1 cm2 ~ 150-250 follicles).
    step_days : float
        Output step.
    seed : int
        Random seed (deterministic).

    Returns
    -------
    Forecast
    """
    if members < 1:
        raise ValueError("members must be >= 1")
    if not (horizon_days > 0 and area_cm2 > 0 and step_days > 0):
        raise ValueError("horizon_days, area_cm2 and step_days must be > 0")
    cal = calibration
    rng = np.random.default_rng(seed)
    now = max([v.day for v in cal.visits] + [s for s in cal.session_days if s <= horizon_days])
    now = min(now, horizon_days)
    past = [s for s in cal.session_days if s <= now]
    if further_sessions is None:
        start = max((past[-1] if past else now) + session_interval_days, now + 1.0)
        plan = list(np.arange(start, last_further_session_day + 1e-9, session_interval_days))
        plan = [float(s) for s in plan if s > now]
    else:
        plan = sorted(float(s) for s in further_sessions if s > now)
    flat = cal.posterior.ravel()
    pick = rng.choice(flat.size, size=members, p=flat)
    i_s, i_r = np.unravel_index(pick, cal.posterior.shape)
    sev = cal.severity_grid[i_s]
    resp = cal.response_grid[i_r]
    dens = cal.follicle_density_grid[i_s, i_r]
    counts = np.maximum(np.rint(dens * area_cm2), 1).astype(np.int64)
    # The patient's terminal caliber per member (the simulator uses the population's): every
    # shaft diameter is vellus + (d0 - vellus) * f, so the mean rescales about the vellus floor.
    al = cal.params.alopecia
    caliber = (
        np.ones(members)
        if cal.terminal_diameter_grid is None
        else (cal.terminal_diameter_grid[i_s, i_r] - al.vellus_diameter_um)
        / (al.terminal_diameter_mean_um - al.vellus_diameter_um)
    )
    onset = -cal.years_since_onset * DAYS_PER_YEAR
    sim = FollicleSimulator(
        counts,
        params=cal.params,
        severity=sev,
        zone=cal.zone,
        onset_day=onset,
        response=resp,
        sessions=past,
        t_start=min(onset, 0.0),
        seed=rng,
        area_cm2=area_cm2,
    )
    sim.advance_to(now)
    days = np.arange(0.0, horizon_days + 1e-9, step_days)
    if days[-1] < horizon_days:
        days = np.append(days, horizon_days)
    scenarios: dict[str, dict[str, Any]] = {}
    branch_seed = int(rng.integers(2**63))  # common random numbers for both scenarios
    for name, extra in (("no_further_sessions", []), ("with_further_sessions", plan)):
        run = sim.fork(extra_sessions=extra, seed=branch_seed)
        run.advance_to(float(days[-1]))
        ts = run.timeseries(days)
        area = float(area_cm2)
        scenarios[name] = {
            "session_days": [float(s) for s in past + list(extra)],
            "density_per_cm2": _band(ts.visible / area),
            "terminal_density_per_cm2": _band(ts.terminal / area),
            "mean_diameter_um": _band(
                al.vellus_diameter_um
                + (ts.mean_diameter_um - al.vellus_diameter_um) * caliber[:, None]
            ),
        }
    return Forecast(
        days=days,
        scenarios=scenarios,
        members=members,
        area_cm2=area_cm2,
        calibration=cal.to_dict(),
    )
