"""Reference for HmmInferenceSkippedReadingTests: a categorical HMM whose first reading (category 0) has
probability zero in the only state the initial distribution allows, so inference skips that reading (its emission
term is 1, as for a missing reading). The MAP path and log p(y_2:T, s*) come from enumerating all 3^T state paths.
Run with python3 (numpy); it prints the values the test holds."""
import itertools
import numpy as np

pi = np.array([0.0, 1.0, 0.0])
A = np.array([[0.9, 0.1, 0.0], [0.0, 0.8, 0.2], [0.3, 0.0, 0.7]])
B = np.array([[0.7, 0.3, 0.0], [0.0, 0.5, 0.5], [0.2, 0.0, 0.8]])
y = [0, 2, 2, 0, 0, 1, 1]
T = len(y)

best, best_path = 0.0, None
total = 0.0
for path in itertools.product(range(3), repeat=T):
    p = pi[path[0]]
    for t in range(1, T):
        p *= A[path[t - 1], path[t]]
    for t in range(1, T):  # the first reading is skipped
        p *= B[path[t], y[t]]
    total += p
    if p > best:
        best, best_path = p, path
print("path", list(best_path))
print("log joint", repr(float(np.log(best))))
print("log likelihood", repr(float(np.log(total))))
