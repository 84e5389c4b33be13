#!/usr/bin/env python3
"""statsmodels' exact diffuse smoother (Durbin & Koopman 2012, section 5.3, univariate treatment) on four models,
one step per reading, smoothed states and covariances at every step including the diffuse period:

  local_level      Nile-like local level (sigma2_eps 15099, sigma2_eta 1469.1), 40 readings, 3 missing
  local_level_gap  the same readings with the first two missing, so that the diffuse period spans three steps
  llt              local linear trend, 40 readings, 3 missing
  seasonal4        local linear trend + trigonometric seasonal of period 4 (a harmonic of period 4 and the one of
                   period 2, which has a single state), 60 readings, 6 missing, one inside the diffuse period
  bivariate        3 states, 2 correlated observations (H 2x3, R full), 40 readings, some components missing

For seasonal4 it also writes smoother_seasonal4_lag3_statsmodels.csv: at each step t, the exact diffuse smoother run
on the readings up to t, at step t - 3 (what a fixed-lag smoother of lag 3 reports at t), with that run's
nobs_diffuse.

Needs numpy and statsmodels (Debian 12: python3-statsmodels 0.13.5). Writes smoother_<case>_statsmodels.csv with
columns t, y_i, nobs_diffuse, smoothed mean sm_mean_i and covariance sm_cov_ij (row-major), and prints the models'
matrices, which the tests repeat as explicit specs.
"""
import math
import os

import numpy as np
import statsmodels
from statsmodels.tsa.statespace.kalman_smoother import KalmanSmoother

HERE = os.path.dirname(os.path.abspath(__file__))


def trend_seasonal(period, harmonics, level, slope, seasonal):
    n = 2 + 2 * harmonics
    f = np.zeros((n, n))
    q = np.zeros((n, n))
    f[0, 0] = f[1, 1] = f[0, 1] = 1.0
    q[0, 0] = level
    q[1, 1] = slope
    h = np.zeros((1, n))
    h[0, 0] = 1.0
    for j in range(harmonics):
        angle = 2.0 * math.pi * (j + 1) / period
        c, s = math.cos(angle), math.sin(angle)
        i = 2 + 2 * j
        f[i:i + 2, i:i + 2] = [[c, s], [-s, c]]
        q[i, i] = q[i + 1, i + 1] = seasonal
        h[0, i] = 1.0
    if 2 * harmonics == period:
        # The harmonic at the Nyquist frequency has a single state (its sine is 0 at every reading).
        keep = [i for i in range(n) if i != n - 1]
        f, q, h = f[np.ix_(keep, keep)], q[np.ix_(keep, keep)], h[:, keep]
    return f, q, h


def simulate(rng, f, q, h, r, x, t, missing):
    n, m = f.shape[0], h.shape[0]
    chol_q = np.linalg.cholesky(q + 1e-300 * np.eye(n)) if np.all(np.linalg.eigvalsh(q) > 0) else None
    chol_r = np.linalg.cholesky(r)
    y = np.empty((t, m))
    for k in range(t):
        if k > 0:
            noise = chol_q @ rng.standard_normal(n) if chol_q is not None else \
                np.sqrt(np.clip(np.diag(q), 0, None)) * rng.standard_normal(n)
            x = f @ x + noise
        y[k] = h @ x + chol_r @ rng.standard_normal(m)
    for k, comp in missing:
        y[k, comp] = np.nan
    return y


def smooth(y, f, q, h, r):
    n, m = f.shape[0], h.shape[0]
    ks = KalmanSmoother(k_endog=m, k_states=n, k_posdef=n)
    ks.bind(y if m > 1 else y[:, 0])
    ks["design"] = h
    ks["obs_cov"] = r
    ks["transition"] = f
    ks["selection"] = np.eye(n)
    ks["state_cov"] = q
    ks.initialize_diffuse()
    return ks.smooth()


def write(name, y, res):
    t, m = y.shape
    n = res.smoothed_state.shape[0]
    path = os.path.join(HERE, f"smoother_{name}_statsmodels.csv")
    with open(path, "w") as out:
        cols = ["t"] + [f"y_{i}" for i in range(m)] + ["nobs_diffuse"] + [f"sm_mean_{i}" for i in range(n)] \
            + [f"sm_cov_{i}{j}" for i in range(n) for j in range(n)]
        out.write(",".join(cols) + "\n")
        for k in range(t):
            row = [k + 1] + list(y[k]) + [res.nobs_diffuse] + list(res.smoothed_state[:, k]) \
                + list(res.smoothed_state_cov[:, :, k].ravel())
            out.write(",".join(repr(float(v)) for v in row) + "\n")
    print(name, "nobs_diffuse", res.nobs_diffuse)


rng = np.random.default_rng(20261206)

# (a) local level, Nile-like.
f, q, h, r = np.array([[1.0]]), np.array([[1469.1]]), np.array([[1.0]]), np.array([[15099.0]])
y = simulate(rng, f, q, h, r, np.array([1120.0]), 40, [(5, 0), (17, 0), (30, 0)])
write("local_level", y, smooth(y, f, q, h, r))
y = y.copy()
y[:2, 0] = np.nan
write("local_level_gap", y, smooth(y, f, q, h, r))

# (b) local linear trend.
f = np.array([[1.0, 1.0], [0.0, 1.0]])
q = np.diag([0.5, 0.02])
h = np.array([[1.0, 0.0]])
r = np.array([[2.0]])
y = simulate(rng, f, q, h, r, np.array([10.0, 0.4]), 40, [(3, 0), (11, 0), (25, 0)])
write("llt", y, smooth(y, f, q, h, r))

# (c) trend + seasonal of period 4 (5 states), with a missing reading inside the diffuse period.
f, q, h = trend_seasonal(4.0, 2, 0.5, 0.01, 0.05)
r = np.array([[1.5]])
y = simulate(rng, f, q, h, r, np.array([50.0, 0.3, 3.0, -1.0, 0.5]), 60,
             [(2, 0), (9, 0), (20, 0), (33, 0), (41, 0), (50, 0)])
write("seasonal4", y, smooth(y, f, q, h, r))
LAG = 3
with open(os.path.join(HERE, f"smoother_seasonal4_lag{LAG}_statsmodels.csv"), "w") as out:
    n = f.shape[0]
    out.write(",".join(["t", "nobs_diffuse"] + [f"sm_mean_{i}" for i in range(n)]
                       + [f"sm_cov_{i}{j}" for i in range(n) for j in range(n)]) + "\n")
    for k in range(LAG, y.shape[0]):
        res = smooth(y[:k + 1], f, q, h, r)
        row = [k + 1, res.nobs_diffuse] + list(res.smoothed_state[:, k - LAG]) \
            + list(res.smoothed_state_cov[:, :, k - LAG].ravel())
        out.write(",".join(repr(float(v)) for v in row) + "\n")

# (d) 3 states, 2 correlated observations, partly missing.
f = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.9]])
q = np.array([[0.3, 0.05, 0.0], [0.05, 0.1, 0.0], [0.0, 0.0, 0.4]])
h = np.array([[1.0, 0.0, 1.0], [0.5, 1.0, -1.0]])
r = np.array([[1.0, 0.3], [0.3, 0.8]])
y = simulate(rng, f, q, h, r, np.array([5.0, 0.2, 1.0]), 40, [(0, 1), (4, 0), (4, 1), (12, 0), (20, 1)])
write("bivariate", y, smooth(y, f, q, h, r))

print("statsmodels", statsmodels.__version__, "numpy", np.__version__)
