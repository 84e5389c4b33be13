#!/usr/bin/env python3
"""statsmodels' exact diffuse filter on a local linear trend plus a trigonometric seasonal of period 12 (2
harmonics), one step per reading, with 9 missing readings: the continuous-time presets of StreamSeq discretised at
a gap of 1 (F and Q below), a well-conditioned case where the exact diffuse recursion resolves in a few steps.

Needs numpy and statsmodels (Debian 12: python3-statsmodels 0.13.5). Writes seasonal12_statsmodels.csv.
"""
import math
import os

import numpy as np
import statsmodels
from statsmodels.tsa.statespace.kalman_filter import KalmanFilter

HERE = os.path.dirname(os.path.abspath(__file__))
LEVEL_NOISE, SLOPE_NOISE, SEASONAL_NOISE, R = 0.5, 0.01, 0.05, 2.0
PERIOD, HARMONICS, T = 12.0, 2, 120
N = 2 + 2 * HARMONICS

f = np.zeros((N, N))
q = np.zeros((N, N))
f[0, 0] = f[1, 1] = f[0, 1] = 1.0
q[0, 0] = SLOPE_NOISE / 3.0 + LEVEL_NOISE
q[0, 1] = q[1, 0] = SLOPE_NOISE / 2.0
q[1, 1] = SLOPE_NOISE
for j in range(HARMONICS):
    angle = 2.0 * math.pi * (j + 1) / PERIOD
    c, s = math.cos(angle), math.sin(angle)
    i = 2 + 2 * j
    f[i:i + 2, i:i + 2] = [[c, s], [-s, c]]
    q[i, i] = q[i + 1, i + 1] = SEASONAL_NOISE
h = np.array([[1.0, 0.0, 1.0, 0.0, 1.0, 0.0]])

rng = np.random.default_rng(20260101)
x = np.array([100.0, 0.3, 5.0, -2.0, 1.0, 0.5])
chol = np.linalg.cholesky(q)
y = np.empty(T)
for t in range(T):
    if t > 0:
        x = f @ x + chol @ rng.standard_normal(N)
    y[t] = (h @ x)[0] + math.sqrt(R) * rng.standard_normal()
y[rng.choice(np.arange(1, T), 9, replace=False)] = np.nan

kf = KalmanFilter(k_endog=1, k_states=N, k_posdef=N)
kf.bind(y)
kf["design"] = h
kf["obs_cov"] = np.array([[R]])
kf["transition"] = f
kf["selection"] = np.eye(N)
kf["state_cov"] = q
kf.initialize_diffuse()
res = kf.filter()

with open(os.path.join(HERE, "seasonal12_statsmodels.csv"), "w") as out:
    cols = ["t", "y", "loglik_contrib", "nobs_diffuse", "llf"] + [f"filt_mean_{i}" for i in range(N)] \
        + [f"filt_cov_{i}{j}" for i in range(N) for j in range(N)]
    out.write(",".join(cols) + "\n")
    for t in range(T):
        row = [t + 1, y[t], res.llf_obs[t], res.nobs_diffuse, res.llf_obs.sum()] + list(res.filtered_state[:, t]) \
            + list(res.filtered_state_cov[:, :, t].ravel())
        out.write(",".join(repr(float(v)) for v in row) + "\n")
print("statsmodels", statsmodels.__version__, "numpy", np.__version__, "nobs_diffuse", res.nobs_diffuse, "llf", res.llf_obs.sum())
