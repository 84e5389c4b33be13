"""Reference for HmmAwkwardCaseTests: forward-backward in log space (scipy's logsumexp), written independently of
StreamSeq's scaled recursions, on cases that stress them: a state with zero initial probability, transition matrices
with zero entries (a left-to-right chain), a reading far more likely in a state the chain cannot be in, a single-state
model, Poisson and categorical readings at the edge of their support (count 0, the first and last category), gaps at
the start and the end, and long sequences whose joint densities underflow any probability-space recursion.

Conventions (those of the oracles folder): a missing reading (NaN) has no emission term and its log p(y_t | y_{1:t-1})
is NaN; log_alpha_t(k) = log p(y_{1:t}, s_t = k), log_beta_t(k) = log p(y_{t+1:T} | s_t = k) (0 at t = T),
smoothed_t(k) = P(s_t = k | y_{1:T}), xi = sum over t >= 2 of P(s_{t-1} = i, s_t = j | y_{1:T}). Every reading in these
cases is possible in some state the chain can be in. Long cases keep every 499th row and the last one. Each case also
holds its Viterbi path (first index on ties) with log p(y, s*), and one Baum-Welch step from its parameters.

Run with python3 (numpy, scipy): python3 make_awkward_cases.py > awkward_cases.json"""
import json
import sys

import numpy as np
from scipy.special import gammaln, logsumexp

rng = np.random.default_rng(20261208)


def log_emissions(emission, y):
    T = len(y)
    K = emission["K"]
    out = np.zeros((T, K))
    for t in range(T):
        if np.isnan(y[t]):
            continue
        if emission["type"] == "gaussian":
            mu = np.array(emission["means"])
            var = np.array(emission["variances"])
            out[t] = -0.5 * (np.log(2 * np.pi * var) + (y[t] - mu) ** 2 / var)
        elif emission["type"] == "poisson":
            lam = np.array(emission["rates"])
            out[t] = y[t] * np.log(lam) - lam - gammaln(y[t] + 1)
        else:
            B = np.array(emission["probabilities"])
            with np.errstate(divide="ignore"):
                out[t] = np.log(B[:, int(y[t])])
    return out


def forward_backward(pi, A, emission, y):
    # Log space with each step's vector normalised (its logsumexp subtracted and the offsets summed apart), so that the
    # numbers exponentiated stay near 0 however long the sequence: unnormalised log-alphas of -40000 would cost the
    # probabilities about 1e-9 of accuracy through the rounding of such large logs.
    with np.errstate(divide="ignore"):
        logpi = np.log(np.array(pi))
        logA = np.log(np.array(A))
    logb = log_emissions(emission, y)
    T, K = logb.shape
    la = np.zeros((T, K))  # log P(s_t | y_1:t)
    pred = np.zeros((T, K))
    offset = np.zeros(T)  # log p(y_t | y_1:t-1), 0 for a missing reading
    for t in range(T):
        log_pred = logpi if t == 0 else logsumexp(la[t - 1][:, None] + logA, axis=0)
        pred[t] = np.exp(log_pred)
        joint = log_pred + logb[t]
        offset[t] = logsumexp(joint)
        assert np.isfinite(offset[t]), f"reading {t} is impossible"
        la[t] = joint - offset[t]
    lpd = np.where(np.isnan(y), np.nan, offset)
    cumulative = np.cumsum(offset)
    loglik = cumulative[-1]
    lb = np.zeros((T, K))  # log beta_t minus the sum of the later scales
    scale = np.zeros(T)
    for t in range(T - 2, -1, -1):
        v = logsumexp(logA + (logb[t + 1] + lb[t + 1])[None, :], axis=1)
        scale[t] = np.max(v)
        lb[t] = v - scale[t]
    log_beta = lb + np.cumsum(scale[::-1])[::-1][:, None]
    log_alpha = la + cumulative[:, None]
    filt = np.exp(la)
    smooth = np.exp(la + lb - logsumexp(la + lb, axis=1, keepdims=True))
    xi = np.zeros((K, K))
    for t in range(1, T):
        term = la[t - 1][:, None] + logA + (logb[t] + lb[t])[None, :]
        xi += np.exp(term - logsumexp(term))
    return dict(pred=pred, filt=filt, smooth=smooth, log_alpha=log_alpha, log_beta=log_beta, lpd=lpd, loglik=loglik, xi=xi)


def viterbi(pi, A, emission, y):
    """The MAP path (first index on ties) and log p(y, s*), in log space."""
    with np.errstate(divide="ignore"):
        logpi = np.log(np.array(pi))
        logA = np.log(np.array(A))
    logb = log_emissions(emission, y)
    T, K = logb.shape
    delta = logpi + logb[0]
    pointers = np.zeros((T, K), dtype=int)
    for t in range(1, T):
        candidates = delta[:, None] + logA
        pointers[t] = np.argmax(candidates, axis=0)
        delta = candidates[pointers[t], np.arange(K)] + logb[t]
    path = [int(np.argmax(delta))]
    for t in range(T - 1, 0, -1):
        path.append(int(pointers[t][path[-1]]))
    return path[::-1], float(np.max(delta))


def em_step(pi, A, emission, y, r):
    """One Baum-Welch step from (pi, A, emission) with the posterior r: pi = gamma_1, A from the expected transition
    counts (a row never left keeps its values), the emission from gamma over the observed readings (a state with no
    weight keeps its values; rates and variances floored at 1e-10, as StreamSeq documents)."""
    gamma = r["smooth"]
    K = len(pi)
    new_pi = gamma[0] / gamma[0].sum()
    new_A = np.array(A, dtype=float)
    for i in range(K):
        if r["xi"][i].sum() > 0:
            new_A[i] = r["xi"][i] / r["xi"][i].sum()
    observed = ~np.isnan(y)
    g = gamma[observed]
    yo = y[observed]
    w = g.sum(axis=0)
    out = {"type": emission["type"]}
    if emission["type"] == "gaussian":
        mu = np.array(emission["means"], dtype=float)
        var = np.array(emission["variances"], dtype=float)
        for k in range(K):
            if w[k] > 0:
                mu[k] = (g[:, k] * yo).sum() / w[k]
                var[k] = max((g[:, k] * (yo - mu[k]) ** 2).sum() / w[k], 1e-10)
        out.update(means=mu.tolist(), variances=var.tolist())
    elif emission["type"] == "poisson":
        lam = np.array(emission["rates"], dtype=float)
        for k in range(K):
            if w[k] > 0:
                lam[k] = max((g[:, k] * yo).sum() / w[k], 1e-10)
        out.update(rates=lam.tolist())
    else:
        B = np.array(emission["probabilities"], dtype=float)
        for k in range(K):
            if w[k] > 0:
                B[k] = np.array([(g[:, k] * (yo == c)).sum() for c in range(B.shape[1])]) / w[k]
        out.update(probabilities=B.tolist())
    return {"initialProbabilities": new_pi.tolist(), "transition": new_A.tolist(), "emission": out}


def simulate(pi, A, emission, T):
    K = len(pi)
    s = rng.choice(K, p=pi)
    y = np.empty(T)
    for t in range(T):
        if t > 0:
            s = rng.choice(K, p=A[s])
        if emission["type"] == "gaussian":
            y[t] = rng.normal(emission["means"][s], np.sqrt(emission["variances"][s]))
        elif emission["type"] == "poisson":
            y[t] = rng.poisson(emission["rates"][s])
        else:
            y[t] = rng.choice(len(emission["probabilities"][s]), p=emission["probabilities"][s])
    return y


def number(v):
    v = float(v)
    return "NaN" if np.isnan(v) else "Infinity" if v == np.inf else "-Infinity" if v == -np.inf else v


def matrix(m):
    return [[number(v) for v in row] for row in np.atleast_2d(m)]


def case(name, pi, A, emission, y, keep_every=1):
    r = forward_backward(pi, A, emission, y)
    T = len(y)
    rows = list(range(0, T, keep_every))
    if rows[-1] != T - 1:
        rows.append(T - 1)
    spec = {k: v for k, v in emission.items() if k != "K"}
    return {
        "name": name,
        "initialProbabilities": pi,
        "transition": A,
        "emission": spec,
        "y": [number(v) for v in y],
        "rows": rows,
        "pred": matrix(r["pred"][rows]),
        "filt": matrix(r["filt"][rows]),
        "smooth": matrix(r["smooth"][rows]),
        "log_alpha": matrix(r["log_alpha"][rows]),
        "log_beta": matrix(r["log_beta"][rows]),
        "log_pred_density": [number(v) for v in r["lpd"][rows]],
        "loglik": number(r["loglik"]),
        "xi": matrix(r["xi"]),
        "em_step": em_step(pi, A, emission, y, r),
        "viterbi_path": viterbi(pi, A, emission, y)[0],
        "viterbi_log_joint": number(viterbi(pi, A, emission, y)[1]),
    }


cases = []

# Zero initial probability and zero transitions; two gaps at the start and two at the end.
pi = [0.0, 0.7, 0.3]
A = [[0.8, 0.2, 0.0], [0.1, 0.85, 0.05], [0.0, 0.3, 0.7]]
em = {"type": "gaussian", "means": [-3.0, 0.0, 4.0], "variances": [1.0, 0.5, 2.0], "K": 3}
y = simulate(pi, A, em, 40)
y[[0, 1, 38, 39]] = np.nan
cases.append(case("zero-initial-and-transitions-gaps-at-both-ends", pi, A, em, y))

# A left-to-right chain whose first reading lies 100 standard deviations from the only state it can start in and right
# on the mean of the state it cannot be in yet: log b differs by 5000 between them.
pi = [1.0, 0.0]
A = [[0.9, 0.1], [0.0, 1.0]]
em = {"type": "gaussian", "means": [0.0, 100.0], "variances": [1.0, 1.0], "K": 2}
y = np.array([100.0, 0.3, -0.2, 100.0, 99.5, np.nan, 100.4, 101.0])
cases.append(case("far-reading-in-an-unreachable-state", pi, A, em, y))

# The same later in the sequence: at t = 2 the last state of a left-to-right chain cannot be reached yet, and the
# reading lies on its mean, 1250 nats more likely there than in the state the chain is in.
pi = [1.0, 0.0, 0.0]
A = [[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0]]
em = {"type": "gaussian", "means": [0.0, 50.0, 100.0], "variances": [1.0, 1.0, 1.0], "K": 3}
y = np.array([0.2, 100.0, 50.5, 99.0, np.nan, 100.3])
cases.append(case("far-reading-in-a-state-not-reachable-yet", pi, A, em, y))

# A single state: the log-likelihood is the sum of the readings' own log-densities.
pi = [1.0]
A = [[1.0]]
em = {"type": "gaussian", "means": [2.5], "variances": [0.75], "K": 1}
y = rng.normal(2.5, np.sqrt(0.75), 30)
y[[0, 29]] = np.nan
cases.append(case("single-state", pi, A, em, y))

# Poisson counts of 0 (the edge of the support) in a chain with a zero transition, gap first.
pi = [0.5, 0.5, 0.0]
A = [[0.9, 0.1, 0.0], [0.05, 0.9, 0.05], [0.0, 0.2, 0.8]]
em = {"type": "poisson", "rates": [0.05, 3.0, 40.0], "K": 3}
y = simulate([0.5, 0.5, 0.0], A, em, 60)
y[[0, 1, 2, 3, 4]] = 0.0
y[[10, 11]] = 0.0
y[0] = np.nan
y[-1] = np.nan
cases.append(case("poisson-zero-counts", pi, A, em, y))

# Categories 0 and C-1 (the edges), with zero emission probabilities and a zero initial probability.
pi = [0.0, 0.4, 0.6]
A = [[0.7, 0.3, 0.0], [0.0, 0.6, 0.4], [0.5, 0.0, 0.5]]
em = {"type": "categorical", "probabilities": [[0.6, 0.4, 0.0, 0.0], [0.0, 0.3, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]], "K": 3}
y = simulate(pi, A, em, 50)
y[[0, 49]] = np.nan
cases.append(case("categorical-edge-categories", pi, A, em, y))

# Long sequences: p(y_{1:T}) is about e^-30000, far below the smallest double.
pi = [0.5, 0.3, 0.2]
A = [[0.90, 0.07, 0.03], [0.05, 0.90, 0.05], [0.04, 0.06, 0.90]]
em = {"type": "gaussian", "means": [-2.0, 0.0, 3.0], "variances": [1.0, 0.5, 2.0], "K": 3}
y = simulate(pi, A, em, 20000)
y[rng.choice(20000, 200, replace=False)] = np.nan
cases.append(case("long-gaussian", pi, A, em, y, keep_every=499))

pi = [0.6, 0.4]
A = [[0.98, 0.02], [0.03, 0.97]]
em = {"type": "poisson", "rates": [2.0, 9.0], "K": 2}
y = simulate(pi, A, em, 20000)
cases.append(case("long-poisson", pi, A, em, y, keep_every=499))

json.dump({
    "generator": "make_awkward_cases.py",
    "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "scipy": __import__("scipy").__version__},
    "cases": cases,
}, sys.stdout, separators=(",", ":"))
sys.stdout.write("\n")
