#!/usr/bin/env python3
"""Exact-diffuse reference for stream temperature-0000 of examples/sensors.csv under examples/sensors.json.

Independent of StreamSeq's algorithm: a plain Kalman filter (no diffuse recursion, no Joseph form) with the proper
prior N(0, kappa I), kappa = 1e40, in 120-digit decimal arithmetic. Its moments equal the exact diffuse ones to
about 1e-20 relative once the data determine the state, and the exact diffuse log-likelihood (Durbin & Koopman
eq. 7.4) is its log-likelihood plus (n/2) log kappa. Double precision cannot do this: the exact posterior variances
reach 1e17 after 18 readings. Only the Python standard library is used.

Usage: python3 make_sensors_reference.py > sensors_exact_reference.csv   (from the repository root or any folder)
"""
import csv
import datetime
import math
import os
import sys
from decimal import Decimal as D, getcontext

getcontext().prec = 120
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "..", ".."))
STREAM = "temperature-0000"
PERIOD, HARMONICS = 1440.0, 2
LEVEL_NOISE, SLOPE_NOISE, SEASONAL_NOISE, R = 0.0004, 1e-8, 1e-6, 0.04
N = 2 + 2 * HARMONICS


def millis(text):
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return round(t.timestamp() * 1000)


def discretize(dt):
    f = [[0.0] * N for _ in range(N)]
    q = [[0.0] * N for _ in range(N)]
    f[0][0] = f[1][1] = 1.0
    f[0][1] = dt
    q[0][0] = SLOPE_NOISE * dt * dt * dt / 3.0 + LEVEL_NOISE * dt
    q[0][1] = q[1][0] = SLOPE_NOISE * dt * dt / 2.0
    q[1][1] = SLOPE_NOISE * dt
    for j in range(HARMONICS):
        angle = 2.0 * math.pi * (j + 1) / PERIOD * dt
        c, s = math.cos(angle), math.sin(angle)
        i = 2 + 2 * j
        f[i][i], f[i][i + 1], f[i + 1][i], f[i + 1][i + 1] = c, s, -s, c
        q[i][i] = q[i + 1][i + 1] = SEASONAL_NOISE * dt
    return [[D(v) for v in row] for row in f], [[D(v) for v in row] for row in q]


def main():
    rows = []
    with open(os.path.join(ROOT, "examples", "sensors.csv"), newline="") as fh:
        for rec in csv.DictReader(fh):
            if rec["stream"] == STREAM:
                rows.append((millis(rec["time"]), float(rec["value"]) if rec["value"] not in ("", "NaN") else math.nan))
    kappa = D(10) ** 40
    a = [D(0)] * N
    p = [[kappa if i == j else D(0) for j in range(N)] for i in range(N)]
    h = [D(1), D(0), D(1), D(0), D(1), D(0)]
    log2pi = (D(2) * D(math.pi)).ln()
    loglik = D(0)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["step", "obs_mean", "obs_var", "loglik_diffuse_so_far"] + [f"mean_{i}" for i in range(N)]
                 + [f"cov_{i}{j}" for i in range(N) for j in range(N)])
    for k, (ms, y) in enumerate(rows):
        if k > 0:
            f, q = discretize((ms - rows[k - 1][0]) / 60000.0)
            a = [sum(f[i][j] * a[j] for j in range(N)) for i in range(N)]
            fp = [[sum(f[i][l] * p[l][j] for l in range(N)) for j in range(N)] for i in range(N)]
            p = [[sum(fp[i][l] * f[j][l] for l in range(N)) + q[i][j] for j in range(N)] for i in range(N)]
        ph = [sum(p[i][j] * h[j] for j in range(N)) for i in range(N)]
        s = sum(h[i] * ph[i] for i in range(N)) + D(R)
        predicted = sum(h[i] * a[i] for i in range(N))
        if not math.isnan(y):
            v = D(y) - sum(h[i] * a[i] for i in range(N))
            loglik += -log2pi / 2 - s.ln() / 2 - v * v / s / 2
            gain = [ph[i] / s for i in range(N)]
            a = [a[i] + gain[i] * v for i in range(N)]
            p = [[p[i][j] - gain[i] * ph[j] for j in range(N)] for i in range(N)]
        if k % 25 == 24 or k == len(rows) - 1:
            out.writerow([k, repr(float(predicted)), repr(float(s)), repr(float(loglik + D(N) / 2 * kappa.ln()))]
                         + [repr(float(x)) for x in a] + [repr(float(p[i][j])) for i in range(N) for j in range(N)])


if __name__ == "__main__":
    main()
