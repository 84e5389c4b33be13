"""Reference for StudentTFarReadingTests: a 3-state Student-t HMM and readings so far out (1e160, -3e200) that
(y - mu)^2 overflows a double, although the Student-t log-density stays finite (about -(nu+1) log|y|).
Forward filtering from the definitions in 60-digit arithmetic (mpmath). Prints the per-step log p(y_t | y_1:t-1)
and the filtered probabilities that the test holds. Run with python3 (mpmath)."""
import mpmath as mp

mp.mp.dps = 60
pi = [mp.mpf("0.5"), mp.mpf("0.3"), mp.mpf("0.2")]
A = [[mp.mpf(v) for v in row] for row in (["0.90", "0.07", "0.03"], ["0.05", "0.90", "0.05"], ["0.04", "0.06", "0.90"])]
loc = [mp.mpf(0), mp.mpf("0.5"), mp.mpf(3)]
scale = [mp.mpf(1), mp.mpf(1), mp.mpf(2)]
nu = [mp.mpf(30), mp.mpf("0.5"), mp.mpf("2.5")]
ys = [mp.mpf("0.3"), mp.mpf("1e160"), mp.mpf("-0.2"), mp.mpf("-3e200"), mp.mpf("2.5")]


def logt(y, k):
    v, s, m = nu[k], scale[k], loc[k]
    return (mp.loggamma((v + 1) / 2) - mp.loggamma(v / 2) - mp.log(v * mp.pi * s * s) / 2
            - (v + 1) / 2 * mp.log(1 + (y - m) ** 2 / (v * s * s)))


f = None
for t, y in enumerate(ys):
    p = pi if t == 0 else [sum(f[i] * A[i][j] for i in range(3)) for j in range(3)]
    w = [p[k] * mp.exp(logt(y, k)) for k in range(3)]
    c = sum(w)
    f = [x / c for x in w]
    print(t + 1, mp.nstr(mp.log(c), 17), [mp.nstr(x, 17) for x in f])
