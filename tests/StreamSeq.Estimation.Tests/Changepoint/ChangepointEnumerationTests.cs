using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Changepoint;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Changepoint;

/// <summary>
/// Short series checked against enumeration of every segmentation, with segment marginal likelihoods and posteriors
/// written here in closed form (batch formulas, not the detector's sequential updates). This is how the Normal-Gamma
/// model is tested: its reference outputs are held back.
/// </summary>
public sealed class ChangepointEnumerationTests
{
    private const double Tol = 1e-11;
    private static readonly double Nan = double.NaN;

    public static TheoryData<string, string, int> Cases => new()
    {
        { "known-variance", "constant", 1 },
        { "normal-gamma", "constant", 1 },
        { "normal-gamma", "weibull", 1 },
        { "known-variance", "logistic", 1 },
        { "normal-gamma", "logistic", 2 },
        { "known-variance", "weibull", 2 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Step_ShortSeries_EqualsSegmentationEnumeration(string model, string hazard, int dimension)
    {
        foreach (var recursion in new[] { RunLengthRecursion.Changepoint, RunLengthRecursion.AdamsMacKay })
        {
            var c = Case.Create(model, hazard, dimension);
            var detector = c.Detector(recursion);
            var state = new double[detector.Info.StateLength];
            detector.Initialize(state, 0);
            var est = new Estimate(detector.Info);
            var runs = new int[64];
            var probs = new double[64];
            var previousLogZ = 0.0;
            for (var t = 1; t <= c.Length; t++)
            {
                detector.Step(state, c.Series.At(t - 1), est, default);
                var row = $"{model}/{hazard}/{dimension}/{recursion} t={t}";
                var segs = c.Segmentations(t).ToList();
                var z = segs.Sum(s => s.Weight);
                if (c.IsMissing(t - 1))
                {
                    Assert.True(double.IsNaN(est.LogLikelihood), row);
                }
                else
                {
                    Expect.Close(Math.Log(z) - previousLogZ, est.LogLikelihood, Tol, $"{row} log predictive");
                }

                previousLogZ = Math.Log(z);

                // The changepoint form: r_t = length of the last segment − 1.
                double[] cpForm = new double[t];
                foreach (var s in segs)
                {
                    cpForm[s.Lengths[^1] - 1] += s.Weight / z;
                }

                // The Adams–MacKay form: the last segment continues (r = its length) or ends after x_t (r = 0).
                var amForm = new double[t + 1];
                foreach (var s in segs)
                {
                    var length = s.Lengths[^1];
                    var h = c.Hazard.Probability(length);
                    amForm[length] += s.Weight / z * (1 - h);
                    amForm[0] += s.Weight / z * h;
                }

                Expect.Close(cpForm[0], est.Extras[0], Tol, $"{row} changepointProbability");
                Expect.Close(amForm[0], est.Extras[3], Tol, $"{row} runLengthZeroProbability");
                var stored = recursion == RunLengthRecursion.Changepoint ? cpForm : amForm;
                var n = detector.ReadRunLengths(state, runs, probs);
                var dense = new double[stored.Length];
                for (var j = 0; j < n; j++)
                {
                    dense[runs[j]] = probs[j];
                }

                Expect.Close(stored, dense, 0, $"{row} run-length posterior", absTol: Tol);
                Expect.Close(Enumerable.Range(0, stored.Length).Sum(k => k * stored[k]), est.Extras[2], Tol, $"{row} expected run length");
                Assert.Equal(Array.IndexOf(stored, stored.Max()), (int)est.Extras[1]);

                // Filtered segment mean: mixture over segmentations of the last segment's posterior.
                var (mean, cov) = c.SegmentMoments(segs, t, z);
                Expect.Close(mean, est.StateMean, Tol, $"{row} filtered segment mean");
                Expect.Close(cov, est.StateCovariance, Tol, $"{row} filtered segment covariance");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FixedIntervalSmoother_ShortSeries_EqualsSegmentationEnumeration(string model, string hazard, int dimension)
    {
        foreach (var recursion in new[] { RunLengthRecursion.Changepoint, RunLengthRecursion.AdamsMacKay })
        {
            var c = Case.Create(model, hazard, dimension);
            var detector = c.Detector(recursion);
            var (means, covs) = FixedIntervalSmoother.Smooth(detector, c.Series);
            var segs = c.Segmentations(c.Length).ToList();
            var z = segs.Sum(s => s.Weight);
            var m = dimension;
            for (var t = 1; t <= c.Length; t++)
            {
                var (mean, cov) = c.SegmentMoments(segs, t, z);
                var row = $"{model}/{hazard}/{dimension}/{recursion} t={t}";
                Expect.Close(mean, means.AsSpan((t - 1) * m, m), Tol, $"{row} smoothed mean");
                Expect.Close(cov, covs.AsSpan((t - 1) * m * m, m * m), Tol, $"{row} smoothed covariance");
            }
        }
    }

    /// <summary>A series, a model written out in closed form, and enumeration over segmentations.</summary>
    private sealed class Case
    {
        private readonly string model;
        private readonly int m;

        private Case(string model, ChangepointHazard hazard, int m, ObservationSeries series)
        {
            this.model = model;
            Hazard = hazard;
            this.m = m;
            Series = series;
        }

        public ChangepointHazard Hazard { get; }

        public ObservationSeries Series { get; }

        public int Length => Series.Length;

        // Known variance: s², μ₀, s₀² per component. Normal-Gamma: μ₀, κ₀, α₀ (integer or half-integer), β₀.
        private static readonly double[][] KnownVariance = [[0.8, 0.5, 4.0], [1.5, -1.0, 2.0]];
        private static readonly double[][] NormalGamma = [[0.0, 1.0, 1.0, 1.0], [1.0, 0.5, 1.5, 2.0]];

        public static Case Create(string model, string hazard, int m)
        {
            ChangepointHazard h = hazard switch
            {
                "constant" => new ConstantHazard(0.2),
                "weibull" => new WeibullHazard(3.0, 1.7),
                _ => new LogisticHazard(0.6, 0.9, 4.0),
            };
            ObservationSeries series = m == 1
                ? new(1, [0.3, -0.5, 0.1, 2.9, 3.4, Nan, 2.6, -1.2, -0.7, -1.6])
                : new(2, [0.3, -1.2, -0.5, Nan, 0.1, -0.8, 2.9, 1.9, Nan, Nan, 3.4, 2.2, Nan, 2.5, -1.2, 0.4, -0.7, 0.6]);
            return new Case(model, h, m, series);
        }

        public BayesianChangepointDetector Detector(RunLengthRecursion recursion)
        {
            SegmentModel segment = model == "known-variance"
                ? new NormalKnownVarianceModel(Col(KnownVariance, 0), Col(KnownVariance, 1), Col(KnownVariance, 2))
                : new NormalGammaModel(Col(NormalGamma, 0), Col(NormalGamma, 1), Col(NormalGamma, 2), Col(NormalGamma, 3));
            return new BayesianChangepointDetector(Hazard, segment, maxRunLength: 50, pruneBelow: 0.0, recursion);
        }

        private double[] Col(double[][] table, int k) => Enumerable.Range(0, m).Select(c => table[c][k]).ToArray();

        public bool IsMissing(int t) => Series.At(t).Values.ToArray().All(double.IsNaN);

        /// <summary>Every segmentation of steps 1..t (lengths in order; the last segment still open) with its joint weight.</summary>
        public IEnumerable<(int[] Lengths, double Weight)> Segmentations(int t)
        {
            for (var mask = 0; mask < 1 << (t - 1); mask++)
            {
                // Bit i set: a new segment starts at step i + 2.
                var lengths = new List<int>();
                var start = 1;
                for (var i = 0; i < t - 1; i++)
                {
                    if ((mask & (1 << i)) != 0)
                    {
                        lengths.Add(i + 2 - start);
                        start = i + 2;
                    }
                }

                lengths.Add(t + 1 - start);
                var weight = 1.0;
                var first = 1;
                for (var s = 0; s < lengths.Count; s++)
                {
                    var length = lengths[s];
                    for (var d = 1; d < length; d++)
                    {
                        weight *= 1 - Hazard.Probability(d);
                    }

                    if (s < lengths.Count - 1)
                    {
                        weight *= Hazard.Probability(length);
                    }

                    weight *= Math.Exp(LogMarginal(first, length));
                    first += length;
                }

                yield return ([.. lengths], weight);
            }
        }

        /// <summary>Mean and covariance of μ of the segment that contains step t, over the given segmentations.</summary>
        public (double[] Mean, double[] Cov) SegmentMoments(List<(int[] Lengths, double Weight)> segs, int t, double z)
        {
            var mean = new double[m];
            var second = new double[m * m];
            foreach (var (lengths, weight) in segs)
            {
                var first = 1;
                foreach (var length in lengths)
                {
                    if (t < first + length)
                    {
                        break;
                    }

                    first += length;
                }

                var segmentLength = SegmentLength(lengths, t);
                var (mu, v) = Posterior(first, segmentLength);
                for (var c = 0; c < m; c++)
                {
                    mean[c] += weight / z * mu[c];
                    for (var d = 0; d < m; d++)
                    {
                        second[(c * m) + d] += weight / z * ((mu[c] * mu[d]) + (c == d ? v[c] : 0.0));
                    }
                }
            }

            for (var c = 0; c < m; c++)
            {
                for (var d = 0; d < m; d++)
                {
                    second[(c * m) + d] -= mean[c] * mean[d];
                }
            }

            return (mean, second);
        }

        private static int SegmentLength(int[] lengths, int t)
        {
            var first = 1;
            foreach (var length in lengths)
            {
                if (t < first + length)
                {
                    return length;
                }

                first += length;
            }

            throw new InvalidOperationException();
        }

        private double[] Values(int first, int length, int c) =>
            Enumerable.Range(first - 1, length).Select(t => Series.At(t).Values[c]).Where(double.IsFinite).ToArray();

        /// <summary>log p(x_{first..first+length−1}), the product over components of each one's closed-form marginal.</summary>
        private double LogMarginal(int first, int length)
        {
            var total = 0.0;
            for (var c = 0; c < m; c++)
            {
                var x = Values(first, length, c);
                var n = x.Length;
                if (n == 0)
                {
                    continue;
                }

                if (model == "known-variance")
                {
                    // x ~ N(μ₀ 1, s² I + s₀² 11'): det = s²^(n−1)(s² + n s₀²), inverse by Sherman–Morrison.
                    double s2 = KnownVariance[c][0], mu0 = KnownVariance[c][1], s02 = KnownVariance[c][2];
                    var dev = x.Select(v => v - mu0).ToArray();
                    var sum = dev.Sum();
                    var quad = (dev.Sum(v => v * v) - (s02 / (s2 + (n * s02)) * sum * sum)) / s2;
                    var logDet = ((n - 1) * Math.Log(s2)) + Math.Log(s2 + (n * s02));
                    total += -0.5 * ((n * Math.Log(2 * Math.PI)) + logDet + quad);
                }
                else
                {
                    double mu0 = NormalGamma[c][0], k0 = NormalGamma[c][1], a0 = NormalGamma[c][2], b0 = NormalGamma[c][3];
                    var mean = x.Average();
                    var kn = k0 + n;
                    var an = a0 + (n / 2.0);
                    var bn = b0 + (0.5 * x.Sum(v => (v - mean) * (v - mean))) + (k0 * n * (mean - mu0) * (mean - mu0) / (2 * kn));
                    total += LogGammaHalf(an) - LogGammaHalf(a0) + (a0 * Math.Log(b0)) - (an * Math.Log(bn))
                        + (0.5 * Math.Log(k0 / kn)) - (n / 2.0 * Math.Log(2 * Math.PI));
                }
            }

            return total;
        }

        /// <summary>Posterior mean and variance of each component's μ from the segment's data.</summary>
        private (double[] Mean, double[] Var) Posterior(int first, int length)
        {
            var mu = new double[m];
            var v = new double[m];
            for (var c = 0; c < m; c++)
            {
                var x = Values(first, length, c);
                var n = x.Length;
                if (model == "known-variance")
                {
                    double s2 = KnownVariance[c][0], mu0 = KnownVariance[c][1], s02 = KnownVariance[c][2];
                    var precision = (1 / s02) + (n / s2);
                    mu[c] = ((mu0 / s02) + (x.Sum() / s2)) / precision;
                    v[c] = 1 / precision;
                }
                else
                {
                    double mu0 = NormalGamma[c][0], k0 = NormalGamma[c][1], a0 = NormalGamma[c][2], b0 = NormalGamma[c][3];
                    var mean = n > 0 ? x.Average() : 0.0;
                    var kn = k0 + n;
                    var an = a0 + (n / 2.0);
                    var bn = b0 + (0.5 * x.Sum(w => (w - mean) * (w - mean))) + (k0 * n * (mean - mu0) * (mean - mu0) / (2 * kn));
                    mu[c] = ((k0 * mu0) + x.Sum()) / kn;
                    v[c] = an > 1 ? bn / (kn * (an - 1)) : double.PositiveInfinity;
                }
            }

            return (mu, v);
        }

        /// <summary>log Γ(x) for whole and half-whole x: Γ(k) = (k−1)!, Γ(k + ½) = √π (2k)! / (4^k k!).</summary>
        private static double LogGammaHalf(double x)
        {
            var twice = (int)Math.Round(2 * x);
            Assert.Equal(twice, 2 * x);
            if (twice % 2 == 0)
            {
                return LogFactorial((twice / 2) - 1);
            }

            var k = (twice - 1) / 2;
            return (0.5 * Math.Log(Math.PI)) + LogFactorial(2 * k) - (k * Math.Log(4)) - LogFactorial(k);
        }

        private static double LogFactorial(int n) => Enumerable.Range(2, Math.Max(n - 1, 0)).Sum(i => Math.Log(i));
    }
}
