"""Closed-loop (free-running) runs of the PyTorch oracle nets with a control input, for the recurrent-particle tests.

The oracle nets (lstm/gru_weights.json, 3 inputs, 2 outputs) are read as controlled nets: x_t = [y_{t-1} (2 values), u_t].
This script re-implements the PyTorch cells in numpy float64 (equations of the oracle README), first checks that it
reproduces the oracle's teacher-forced float64 outputs ({cell}_nonzeroinit_f64_outputs.csv, non-zero initial state),
then runs each net closed loop: y_0 = x_0[0:2] of the stream, u_t = x_{t-1}[2] (the control of reading t, 1-based),
h_1 = cell(h_0, [y_0, u_1]) and h_t = cell(h_{t-1}, [yhat_{t-1}, u_t]) with yhat_t = head(h_t). That is the mean path of
the recurrent state-space reading when the head's noise, the process noise and the initial variance are all zero.
It also writes the same run with every control missing (u = 0, the normalised value of a missing control) to show
how far the controls move the outputs.

Output: {cell}_closedloop_controls_f64.csv with columns t (1-based reading index), u, yhat_0, yhat_1,
yhat_nocontrol_0, yhat_nocontrol_1, and the top-layer hidden state h_0..h_7 of the controlled run.

It also simulates readings from the state-space reading itself with the same controls (head variance HEAD_VARIANCE,
sensor variance SENSOR_VARIANCE, no process noise): z_t ~ N(yhat(h_t), HEAD_VARIANCE I), y_t = z_t + N(0,
SENSOR_VARIANCE I), h_{t+1} = cell(h_t, [z_t, u_{t+1}]), written to {cell}_simulated_controls_f64.csv (t, u, y_0, y_1),
data on which the particle and unscented filters must agree.
Run from this folder: python3 make_closed_loop_controls.py
"""
import csv
import json

import numpy as np

STREAM = 1
STEPS = 49
HEAD_VARIANCE = 0.01
SENSOR_VARIANCE = 0.01


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def load(cell):
    d = json.load(open(f"{cell}_weights.json"))
    return {k: np.array(v["values"], dtype=np.float64) for k, v in d["tensors"].items()}


def rows(path):
    with open(path) as f:
        return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]


def step(cell, w, layers, state, x):
    """state: list per layer of (h, c); returns new state."""
    new = []
    inp = x
    for l in range(layers):
        h, c = state[l]
        gi = w[f"weight_ih_l{l}"] @ inp + w[f"bias_ih_l{l}"]
        gh = w[f"weight_hh_l{l}"] @ h + w[f"bias_hh_l{l}"]
        if cell == "lstm":
            g = gi + gh
            i, f, gg, o = np.split(g, 4)
            c2 = sigmoid(f) * c + sigmoid(i) * np.tanh(gg)
            h2 = sigmoid(o) * np.tanh(c2)
        else:
            ir, iz, inn = np.split(gi, 3)
            hr, hz, hn = np.split(gh, 3)
            r = sigmoid(ir + hr)
            z = sigmoid(iz + hz)
            n = np.tanh(inn + r * hn)
            h2 = (1 - z) * n + z * h
            c2 = None
        new.append((h2, c2))
        inp = h2
    return new


def head(w, h):
    return w["head.weight"] @ h + w["head.bias"]


def main():
    xs = [r for r in rows("inputs.csv") if int(r["stream"]) == STREAM]
    xs.sort(key=lambda r: r["t"])
    x = np.array([[r["x_0"], r["x_1"], r["x_2"]] for r in xs])
    for cell, layers in (("lstm", 2), ("gru", 1)):
        w = load(cell)
        init = {int(r["layer"]): r for r in rows(f"{cell}_initial_state_nonzero.csv") if int(r["stream"]) == STREAM}
        h0 = [(np.array([init[l][f"h_{k}"] for k in range(8)]),
               np.array([init[l][f"c_{k}"] for k in range(8)]) if cell == "lstm" else None) for l in range(layers)]
        # Teacher forcing against PyTorch.
        expected = {int(r["t"]): r for r in rows(f"{cell}_nonzeroinit_f64_outputs.csv") if int(r["stream"]) == STREAM}
        state = h0
        worst = 0.0
        for t in range(50):
            state = step(cell, w, layers, state, x[t])
            y = head(w, state[-1][0])
            worst = max(worst, max(abs(y[k] - expected[t][f"y_{k}"]) for k in range(2)),
                        max(abs(state[-1][0][k] - expected[t][f"h_{k}"]) for k in range(8)))
        assert worst < 1e-13, worst
        print(f"{cell}: numpy vs PyTorch f64 teacher forced, max abs difference {worst:.3g}")

        def closed(controls):
            state = h0
            prev = x[0, 0:2]
            out = []
            for t in range(1, STEPS + 1):
                u = controls[t - 1]
                state = step(cell, w, layers, state, np.array([prev[0], prev[1], u]))
                yhat = head(w, state[-1][0])
                out.append((yhat, state[-1][0]))
                prev = yhat
            return out

        run = closed(x[:, 2])
        none = closed(np.zeros(50))
        gap = max(np.max(np.abs(a[0] - b[0])) for a, b in zip(run, none))
        print(f"{cell}: closed loop, controls used vs missing, max abs difference of yhat {gap:.3g}; step 1: {np.max(np.abs(run[0][0] - none[0][0])):.3g}")
        with open(f"{cell}_closedloop_controls_f64.csv", "w", newline="") as f:
            out = csv.writer(f, lineterminator="\n")
            out.writerow(["t", "u", "yhat_0", "yhat_1", "yhat_nocontrol_0", "yhat_nocontrol_1"] + [f"h_{k}" for k in range(8)])
            for t in range(1, STEPS + 1):
                a, b = run[t - 1], none[t - 1]
                out.writerow([t, repr(float(x[t - 1, 2])), repr(float(a[0][0])), repr(float(a[0][1])), repr(float(b[0][0])), repr(float(b[0][1]))]
                             + [repr(float(v)) for v in a[1]])

        rng = np.random.default_rng(20261207)
        state = h0
        prev = x[0, 0:2]
        with open(f"{cell}_simulated_controls_f64.csv", "w", newline="") as f:
            out = csv.writer(f, lineterminator="\n")
            out.writerow(["t", "u", "y_0", "y_1"])
            for t in range(1, STEPS + 1):
                u = x[t - 1, 2]
                state = step(cell, w, layers, state, np.array([prev[0], prev[1], u]))
                z = head(w, state[-1][0]) + np.sqrt(HEAD_VARIANCE) * rng.standard_normal(2)
                y = z + np.sqrt(SENSOR_VARIANCE) * rng.standard_normal(2)
                out.writerow([t, repr(float(u)), repr(float(y[0])), repr(float(y[1]))])
                prev = z


if __name__ == "__main__":
    main()
