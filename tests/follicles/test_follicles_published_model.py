"""Agreement with the published deterministic follicular automaton (Halloy et al. 2002).

The Physiome Model Repository's CellML encoding of the 2002 deterministic model (reproducing its
figure 5d) is the linear chain dL/dt = T/mu_T - L/mu_L, dA/dt = L/mu_L - A/mu_A,
dT/dt = A/mu_A - T/mu_T with mu_A = 3.6, mu_T = 2.4, mu_L = 2 (months), whose steady state is
each phase's share of the mean cycle, e.g. A0 = mu_A / (mu_A + mu_T + mu_L) = 0.45. With those
(illustrative, non-physiological) means our deterministic and stochastic models must give the
same fractions.
"""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from anagen.follicles import ModelParameters, simulate
from anagen.follicles.meanfield import steady_state_fractions
from anagen.follicles.params import CycleParameters

MONTH = 30.4375
MU_A, MU_T, MU_L = 3.6 * MONTH, 2.4 * MONTH, 2.0 * MONTH


def published_steady_state():
    def rates(_, y):
        latency, anagen, telogen = y
        return [
            telogen / MU_T - latency / MU_L,
            latency / MU_L - anagen / MU_A,
            anagen / MU_A - telogen / MU_T,
        ]

    solution = solve_ivp(rates, (0, 20 * 365), [0.33, 0.34, 0.33], rtol=1e-8, atol=1e-10)
    latency, anagen, telogen = solution.y[:, -1]
    return {"anagen": anagen, "telogen": telogen, "latency": latency}


def params():
    return ModelParameters(
        cycle=CycleParameters(
            anagen_mean_days=MU_A,
            anagen_sd_days=0.4 * MU_A,
            telogen_mean_days=MU_T,
            telogen_sd_days=0.4 * MU_T,
            latency_mean_days=MU_L,
            latency_sd_days=0.4 * MU_L,
        )
    )


def test_deterministic_steady_state_matches_the_published_equations():
    published = published_steady_state()
    ours = steady_state_fractions(params())
    assert published["anagen"] == pytest.approx(0.45, abs=1e-4)
    for phase in ("anagen", "telogen", "latency"):
        assert ours[phase] == pytest.approx(published[phase], abs=1e-4)


def test_large_stochastic_population_converges_to_it():
    n = 20_000
    series = simulate(n, 12, seed=3, params=params())
    late = slice(-48, None)  # the last four years, well past the start-up transient
    published = published_steady_state()
    for phase in ("anagen", "telogen", "latency"):
        fraction = np.asarray(getattr(series, phase))[late] / n
        assert float(fraction.mean()) == pytest.approx(published[phase], abs=0.01), phase
