using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Discrete;

/// <summary>
/// Tiny models checked against enumeration of every state path, with emission densities written out here
/// independently of the library (closed forms only).
/// </summary>
public sealed class HmmEnumerationTests
{
    private const double Tol = 1e-12;

    public static TheoryData<string> Cases => ["gaussian", "student-t", "poisson", "categorical", "multivariate-gaussian"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Step_TinyModel_EqualsPathEnumeration(string type)
    {
        var c = Case.Create(type);
        var filter = new HiddenMarkovFilter(c.Model, viterbiWindow: 8);
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var est = new Estimate(filter.Info);
        var path = new int[8];
        var scores = new double[c.K];
        var previousLogZ = 0.0;
        for (var t = 0; t < c.T; t++)
        {
            filter.Step(state, c.Series.At(t), est, default);
            var prefix = t + 1;
            var logZ = Math.Log(c.Total(prefix, prefix));
            for (var k = 0; k < c.K; k++)
            {
                Expect.Close(c.Marginal(prefix, t, k, withLast: false), est.PredictedMean[k], Tol, $"{type} t={t} pred {k}");
                Expect.Close(c.Marginal(prefix, t, k, withLast: true), est.StateMean[k], Tol, $"{type} t={t} filt {k}");
            }

            if (c.IsMissing(t))
            {
                Assert.True(double.IsNaN(est.LogLikelihood));
                Assert.Equal(0, est.ObservedCount);
            }
            else
            {
                Expect.Close(logZ - previousLogZ, est.LogLikelihood, Tol, $"{type} t={t} loglik");
            }

            previousLogZ = logZ;
            var (best, bestJoint) = c.BestPath(prefix);
            var n = filter.ReadViterbiPath(state, path);
            Assert.Equal(best, path[..n]);
            Expect.Close(Math.Log(bestJoint), HiddenMarkovFilter.BestPathLogJoint(state), Tol, $"{type} t={t} viterbi joint");
            filter.ReadViterbiScores(state, scores);
            for (var k = 0; k < c.K; k++)
            {
                Expect.Close(Math.Log(c.BestEndingIn(prefix, k)), scores[k], Tol, $"{type} t={t} delta {k}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardBackward_TinyModel_EqualsPathEnumeration(string type)
    {
        var c = Case.Create(type);
        var post = HmmInference.ForwardBackward(c.Model, c.Series);
        var viterbi = HmmInference.Viterbi(c.Model, c.Series);
        var (smoothMeans, _) = FixedIntervalSmoother.Smooth(new HiddenMarkovFilter(c.Model), c.Series);
        Expect.Close(Math.Log(c.Total(c.T, c.T)), post.LogLikelihood, Tol, $"{type} loglik");
        for (var t = 0; t < c.T; t++)
        {
            for (var k = 0; k < c.K; k++)
            {
                var smoothed = c.Marginal(c.T, t, k, withLast: true);
                Expect.Close(smoothed, post.Smoothed[(t * c.K) + k], Tol, $"{type} t={t} smooth {k}");
                Expect.Close(smoothed, smoothMeans[(t * c.K) + k], Tol, $"{type} t={t} backward-step smooth {k}");
            }
        }

        for (var i = 0; i < c.K; i++)
        {
            for (var j = 0; j < c.K; j++)
            {
                Expect.Close(c.ExpectedTransitions(i, j), post.ExpectedTransitionCounts[(i * c.K) + j], Tol, $"{type} xi {i}{j}");
            }
        }

        var (best, bestJoint) = c.BestPath(c.T);
        Assert.Equal(best, viterbi.Path);
        Expect.Close(Math.Log(bestJoint), viterbi.LogJoint, Tol, $"{type} viterbi joint");
    }

    /// <summary>A model, its data and brute-force answers.</summary>
    private sealed class Case
    {
        private readonly double[] pi;
        private readonly double[] a;
        private readonly Func<int, double[], double> density;

        private Case(HiddenMarkovModel model, double[] pi, double[] a, Func<int, double[], double> density, ObservationSeries series)
        {
            Model = model;
            this.pi = pi;
            this.a = a;
            this.density = density;
            Series = series;
            K = pi.Length;
            T = series.Length;
        }

        public HiddenMarkovModel Model { get; }

        public ObservationSeries Series { get; }

        public int K { get; }

        public int T { get; }

        public static Case Create(string type)
        {
            var nan = double.NaN;
            switch (type)
            {
                case "gaussian":
                {
                    double[] pi = [0.6, 0.4];
                    double[] a = [0.8, 0.2, 0.3, 0.7];
                    double[] mu = [-1.0, 1.5];
                    double[] v = [0.7, 1.3];
                    return new Case(
                        new HiddenMarkovModel(pi, a, new GaussianEmission(mu, v)), pi, a,
                        (k, y) => Math.Exp(-(y[0] - mu[k]) * (y[0] - mu[k]) / (2 * v[k])) / Math.Sqrt(2 * Math.PI * v[k]),
                        new ObservationSeries(1, [-0.4, 1.1, nan, 2.0, -1.7, 0.3]));
                }

                case "student-t":
                {
                    // ν = 1, 3, 4 have closed-form normalisers: 1/π, 2/(π√3) and 3/8.
                    double[] pi = [0.3, 0.3, 0.4];
                    double[] a = [0.7, 0.2, 0.1, 0.25, 0.5, 0.25, 0.1, 0.3, 0.6];
                    double[] loc = [-2.0, 0.0, 2.5];
                    double[] scale = [0.8, 1.2, 0.5];
                    double[] nu = [1.0, 3.0, 4.0];
                    double[] c = [1 / Math.PI, 2 / (Math.PI * Math.Sqrt(3)), 3.0 / 8.0];
                    return new Case(
                        new HiddenMarkovModel(pi, a, new StudentTEmission(loc, scale, nu)), pi, a,
                        (k, y) =>
                        {
                            var z = (y[0] - loc[k]) / scale[k];
                            return c[k] / scale[k] * Math.Pow(1 + (z * z / nu[k]), -(nu[k] + 1) / 2);
                        },
                        new ObservationSeries(1, [0.2, -2.4, 2.2, nan, 7.0]));
                }

                case "poisson":
                {
                    double[] pi = [0.5, 0.5];
                    double[] a = [0.9, 0.1, 0.2, 0.8];
                    double[] rate = [1.5, 6.0];
                    return new Case(
                        new HiddenMarkovModel(pi, a, new PoissonEmission(rate)), pi, a,
                        (k, y) =>
                        {
                            var p = Math.Exp(-rate[k]);
                            for (var i = 1; i <= (int)y[0]; i++)
                            {
                                p *= rate[k] / i;
                            }

                            return p;
                        },
                        new ObservationSeries(1, [0, 2, 7, nan, 5, 1]));
                }

                case "categorical":
                {
                    double[] pi = [0.2, 0.5, 0.3];
                    double[] a = [0.6, 0.3, 0.1, 0.2, 0.6, 0.2, 0.0, 0.4, 0.6];
                    double[] b = [0.7, 0.2, 0.1, 0.0, 0.1, 0.1, 0.4, 0.4, 0.25, 0.25, 0.25, 0.25];
                    return new Case(
                        new HiddenMarkovModel(pi, a, new CategoricalEmission(b, 4)), pi, a,
                        (k, y) => b[(k * 4) + (int)y[0]],
                        new ObservationSeries(1, [0, 3, nan, 2, 1, 1]));
                }

                case "multivariate-gaussian":
                {
                    double[] pi = [0.45, 0.55];
                    double[] a = [0.85, 0.15, 0.25, 0.75];
                    double[] mu = [0.0, 1.0, 2.0, -1.0];
                    double[] cov = [1.0, 0.4, 0.4, 0.8, 0.5, -0.2, -0.2, 1.5];
                    return new Case(
                        new HiddenMarkovModel(pi, a, new MultivariateGaussianEmission(mu, cov, 2)), pi, a,
                        (k, y) => Bivariate(mu.AsSpan(2 * k, 2).ToArray(), cov.AsSpan(4 * k, 4).ToArray(), y),
                        new ObservationSeries(2, [0.3, 0.9, 2.2, nan, nan, nan, 1.4, -0.6, nan, 0.1]));
                }

                default:
                    throw new ArgumentException(type);
            }
        }

        private static double Bivariate(double[] mu, double[] s, double[] y)
        {
            var o0 = double.IsFinite(y[0]);
            var o1 = double.IsFinite(y[1]);
            if (o0 && o1)
            {
                var det = (s[0] * s[3]) - (s[1] * s[2]);
                double d0 = y[0] - mu[0], d1 = y[1] - mu[1];
                var q = ((s[3] * d0 * d0) - (2 * s[1] * d0 * d1) + (s[0] * d1 * d1)) / det;
                return Math.Exp(-q / 2) / (2 * Math.PI * Math.Sqrt(det));
            }

            var i = o0 ? 0 : 1;
            var v = s[(i * 2) + i];
            var d = y[i] - mu[i];
            return Math.Exp(-d * d / (2 * v)) / Math.Sqrt(2 * Math.PI * v);
        }

        public bool IsMissing(int t) => Series.At(t).Values.ToArray().All(v => double.IsNaN(v));

        /// <summary>p(y_{1:upto−1 or upto}, s_{1:len}) for one path of length len.</summary>
        private double Joint(int[] path, int emissions)
        {
            var p = pi[path[0]];
            for (var t = 0; t < path.Length; t++)
            {
                if (t > 0)
                {
                    p *= a[(path[t - 1] * K) + path[t]];
                }

                if (t < emissions && !IsMissing(t))
                {
                    p *= density(path[t], Series.At(t).Values.ToArray());
                }
            }

            return p;
        }

        private IEnumerable<int[]> Paths(int length)
        {
            var count = (int)Math.Pow(K, length);
            for (var code = 0; code < count; code++)
            {
                var path = new int[length];
                var c = code;
                for (var t = length - 1; t >= 0; t--)
                {
                    path[t] = c % K;
                    c /= K;
                }

                yield return path;
            }
        }

        /// <summary>Σ over paths of length len of the joint with the first <paramref name="emissions"/> emissions.</summary>
        public double Total(int length, int emissions) => Paths(length).Sum(p => Joint(p, emissions));

        /// <summary>P(s_t = k | y_{1:len}) (withLast) or P(s_t = k | y_{1:len−1}) over paths of length len.</summary>
        public double Marginal(int length, int t, int k, bool withLast)
        {
            var emissions = withLast ? length : length - 1;
            return Paths(length).Where(p => p[t] == k).Sum(p => Joint(p, emissions)) / Total(length, emissions);
        }

        public double ExpectedTransitions(int i, int j)
        {
            var total = Total(T, T);
            var sum = 0.0;
            foreach (var p in Paths(T))
            {
                var w = Joint(p, T) / total;
                for (var t = 1; t < T; t++)
                {
                    if (p[t - 1] == i && p[t] == j)
                    {
                        sum += w;
                    }
                }
            }

            return sum;
        }

        public (int[] Path, double Joint) BestPath(int length)
        {
            int[] best = [];
            var bestJoint = -1.0;
            foreach (var p in Paths(length))
            {
                var j = Joint(p, length);
                if (j > bestJoint)
                {
                    bestJoint = j;
                    best = p;
                }
            }

            return (best, bestJoint);
        }

        public double BestEndingIn(int length, int k) => Paths(length).Where(p => p[^1] == k).Max(p => Joint(p, length));
    }
}
