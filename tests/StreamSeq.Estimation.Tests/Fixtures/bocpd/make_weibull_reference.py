#!/usr/bin/env python3
"""Reference values for the Weibull hazard of the changepoint detector, computed independently of StreamSeq.

* weibull_hazard_reference.csv: h(d) = 1 - exp(-[(d/scale)^shape - ((d-1)/scale)^shape]) for a grid of scales,
  shapes and durations, evaluated with mpmath at 50 significant digits and rounded once to a double.
* weibull_knownvar_cp.csv: Adams & MacKay's recursion in the changepoint-at-t form, written out directly (one
  hypothesis per segment start, every predictive recomputed from the segment's raw readings, no pruning and no
  cap), on the first 200 readings of bocpd_data.csv with known-variance Gaussian segments (variance 1, prior mean
  0, prior variance 9) and a Weibull hazard of scale 20 and shape 1.5. Over the first ~35 steps of a segment its
  hazard increments lie between 0.01 and 0.1. Columns: log p(x_t | x_1:t-1), P_cp(r_t = 0), P_am(r_t = 0) and
  the expected run length of the changepoint form.

Needs numpy and mpmath (Debian 12: python3-numpy, python3-mpmath). Run from anywhere; writes next to this file.
"""
import csv
import math
import os

import mpmath
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
mpmath.mp.dps = 50


def hazard(d, scale, shape):
    scale, shape = mpmath.mpf(scale), mpmath.mpf(shape)
    increment = (d / scale) ** shape - ((d - 1) / scale) ** shape
    return float(-mpmath.expm1(-increment))


with open(os.path.join(HERE, "weibull_hazard_reference.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["scale", "shape", "duration", "hazard"])
    for scale in (0.7, 5.0, 20.0, 40.0, 250.0, 3000.0):
        for shape in (0.5, 1.0, 1.5, 2.5, 4.0):
            for d in (1, 2, 3, 5, 10, 30, 100, 400):
                w.writerow([repr(scale), repr(shape), d, repr(hazard(d, scale, shape))])

x = []
with open(os.path.join(HERE, "bocpd_data.csv")) as f:
    for row in csv.DictReader(f):
        x.append(float(row["x"]))
x = np.array(x[:200])
S2, MU0, S02 = 1.0, 0.0, 9.0
SCALE, SHAPE = 20.0, 1.5


def log_predictive(segment, value):
    precision = 1.0 / S02 + len(segment) / S2
    mean = (MU0 / S02 + float(np.sum(segment)) / S2) / precision
    var = 1.0 / precision + S2
    return -0.5 * (math.log(2.0 * math.pi * var) + (value - mean) ** 2 / var)


rows = []
q = {0: 1.0}  # start of the segment that x_t belongs to -> P(before x_t)
for t in range(len(x)):
    starts = sorted(q)
    logs = np.array([math.log(q[s]) + log_predictive(x[s:t], x[t]) for s in starts])
    top = logs.max()
    evidence = top + math.log(np.sum(np.exp(logs - top)))
    post = np.exp(logs - evidence)
    p_cp0 = float(post[starts.index(t)]) if t in starts else 0.0
    p_am0 = float(sum(p * hazard(t - s + 1, SCALE, SHAPE) for s, p in zip(starts, post)))
    expected = float(sum(p * (t - s) for s, p in zip(starts, post)))
    rows.append([t + 1, repr(float(evidence)), repr(p_cp0), repr(p_am0), repr(expected)])
    nxt = {}
    for s, p in zip(starts, post):
        h = hazard(t - s + 1, SCALE, SHAPE)
        nxt[s] = nxt.get(s, 0.0) + p * (1.0 - h)
        nxt[t + 1] = nxt.get(t + 1, 0.0) + p * h
    q = {s: p for s, p in nxt.items() if p > 0.0}

with open(os.path.join(HERE, "weibull_knownvar_cp.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["t", "log_pred_density", "p_cp_r0", "p_am_r0", "expected_run_length"])
    w.writerows(rows)
