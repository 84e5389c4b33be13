using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Discrete;

/// <summary>Baum–Welch on simulated data with missing observations, and its monotonicity.</summary>
public sealed class BaumWelchTests
{
    private static readonly double[] TrueA = [0.95, 0.03, 0.02, 0.04, 0.92, 0.04, 0.03, 0.03, 0.94];

    [Fact]
    public void Fit_GaussianWithMissingSteps_RecoversParameters()
    {
        var rng = new Random(11);
        double[] mu = [-3, 0, 4];
        double[] sd = [0.7, 1.0, 1.4];
        var sequences = Enumerable.Range(0, 4)
            .Select(_ => Simulate(rng, [0.4, 0.3, 0.3], TrueA, 600, (k, r) => [mu[k] + (sd[k] * Normal(r))], missingRate: 0.2, dimension: 1))
            .ToList();
        var start = new HiddenMarkovModel(
            [1.0 / 3, 1.0 / 3, 1.0 / 3],
            [0.8, 0.1, 0.1, 0.1, 0.8, 0.1, 0.1, 0.1, 0.8],
            new GaussianEmission([-1, 0.5, 2], [1, 1, 1]));
        var progress = new Recorder();
        var result = BaumWelch.Fit(start, sequences, ["initialProbabilities", "transition", "emission"], new FitOptions { MaxIterations = 300, Tolerance = 1e-9, Progress = progress });

        Assert.True(result.Converged);
        AssertNonDecreasing(progress.LogLikelihoods);
        var e = Assert.IsType<GaussianEmission>(result.Model.Emission);
        for (var k = 0; k < 3; k++)
        {
            Assert.InRange(e.Means[k], mu[k] - 0.15, mu[k] + 0.15);
            Assert.InRange(e.Variances[k], sd[k] * sd[k] * 0.8, sd[k] * sd[k] * 1.25);
        }

        Expect.Close(TrueA, result.Model.Transition, 0, "A", absTol: 0.03);
        Expect.Close(BaumWelch.Evaluate(result.Model, sequences), result.LogLikelihood, 1e-12, "reported loglik");
    }

    [Fact]
    public void Fit_BivariateWithPartlyMissingComponents_RecoversMeansAndCovariances()
    {
        var rng = new Random(5);
        double[] mu = [0, 0, 3, -2];
        double[][] chol = [[1.0, 0.0, 0.6, 0.8], [0.8, 0.0, -0.5, 1.2]];
        var a = new[] { 0.93, 0.07, 0.06, 0.94 };
        var sequences = Enumerable.Range(0, 3)
            .Select(_ => Simulate(rng, [0.5, 0.5], a, 700, (k, r) =>
            {
                double z0 = Normal(r), z1 = Normal(r);
                var l = chol[k];
                return [mu[2 * k] + (l[0] * z0), mu[(2 * k) + 1] + (l[2] * z0) + (l[3] * z1)];
            }, missingRate: 0.25, dimension: 2, componentwise: true))
            .ToList();
        var start = new HiddenMarkovModel([0.5, 0.5], [0.8, 0.2, 0.2, 0.8], new MultivariateGaussianEmission([-1, 1, 2, -1], [2, 0, 0, 2, 2, 0, 0, 2], 2));
        var progress = new Recorder();
        var result = BaumWelch.Fit(start, sequences, ["transition", "emission"], new FitOptions { MaxIterations = 300, Tolerance = 1e-9, Progress = progress });
        AssertNonDecreasing(progress.LogLikelihoods);
        var e = Assert.IsType<MultivariateGaussianEmission>(result.Model.Emission);
        Expect.Close(mu, e.Means, 0, "means", absTol: 0.15);
        for (var k = 0; k < 2; k++)
        {
            var l = chol[k];
            double[] sigma = [l[0] * l[0], l[0] * l[2], l[0] * l[2], (l[2] * l[2]) + (l[3] * l[3])];
            Expect.Close(sigma, e.Covariances.Slice(4 * k, 4), 0, $"cov {k}", absTol: 0.2);
        }

        Expect.Close(a, result.Model.Transition, 0, "A", absTol: 0.03);
    }

    [Fact]
    public void Fit_PoissonCounts_RecoversRates()
    {
        var rng = new Random(3);
        double[] rates = [2, 9];
        var a = new[] { 0.9, 0.1, 0.15, 0.85 };
        var sequences = Enumerable.Range(0, 3)
            .Select(_ => Simulate(rng, [0.5, 0.5], a, 500, (k, r) => [Poisson(r, rates[k])], missingRate: 0.1, dimension: 1))
            .ToList();
        var start = new HiddenMarkovModel([0.5, 0.5], [0.7, 0.3, 0.3, 0.7], new PoissonEmission([1, 5]));
        var progress = new Recorder();
        var result = BaumWelch.Fit(start, sequences, ["initialProbabilities", "transition", "emission.rates"], new FitOptions { MaxIterations = 300, Progress = progress });
        AssertNonDecreasing(progress.LogLikelihoods);
        var e = Assert.IsType<PoissonEmission>(result.Model.Emission);
        Assert.InRange(e.Rates[0], 1.8, 2.2);
        Assert.InRange(e.Rates[1], 8.5, 9.5);
    }

    [Fact]
    public void Fit_CategoricalAndStudentT_NeverLowerTheLikelihood()
    {
        var rng = new Random(9);
        var a = new[] { 0.9, 0.1, 0.2, 0.8 };
        double[] b = [0.75, 0.2, 0.05, 0.05, 0.2, 0.75];
        var categorical = Enumerable.Range(0, 4)
            .Select(_ => Simulate(rng, [0.5, 0.5], a, 600, (k, r) => [Draw(r, b.AsSpan(3 * k, 3).ToArray())], missingRate: 0.1, dimension: 1))
            .ToList();
        var progress = new Recorder();
        var fitted = BaumWelch.Fit(
            new HiddenMarkovModel([0.5, 0.5], [0.6, 0.4, 0.4, 0.6], new CategoricalEmission([0.4, 0.3, 0.3, 0.3, 0.3, 0.4], 3)),
            categorical,
            ["initialProbabilities", "transition", "emission"],
            new FitOptions { MaxIterations = 200, Progress = progress });
        AssertNonDecreasing(progress.LogLikelihoods);
        var truth = new HiddenMarkovModel([0.5, 0.5], a, new CategoricalEmission(b, 3));
        Assert.True(fitted.LogLikelihood >= BaumWelch.Evaluate(truth, categorical), "EM should do at least as well as the generating parameters");
        Expect.Close(b, ((CategoricalEmission)fitted.Model.Emission).Probabilities, 0, "categorical B", absTol: 0.1);

        // Heavy-tailed regimes: t with 3 degrees of freedom around -2 and 2.
        var heavy = Enumerable.Range(0, 2)
            .Select(_ => Simulate(rng, [0.5, 0.5], a, 400, (k, r) => [(k == 0 ? -2 : 2) + (0.5 * Normal(r) / Math.Sqrt(ChiSquare(r, 3) / 3))], missingRate: 0.1, dimension: 1))
            .ToList();
        progress = new Recorder();
        var t = BaumWelch.Fit(
            new HiddenMarkovModel([0.5, 0.5], [0.7, 0.3, 0.3, 0.7], new StudentTEmission([-1, 1], [1, 1], [10, 10])),
            heavy,
            ["transition", "emission"],
            new FitOptions { MaxIterations = 200, Progress = progress });
        AssertNonDecreasing(progress.LogLikelihoods);
        var e = (StudentTEmission)t.Model.Emission;
        Assert.InRange(e.Locations[0], -2.2, -1.8);
        Assert.InRange(e.Locations[1], 1.8, 2.2);
        Assert.All(e.DegreesOfFreedom.ToArray(), nu => Assert.InRange(nu, 1.5, 8));
    }

    [Fact]
    public void FitEm_HmmSpec_WritesFittedSpecWhoseFilterLikelihoodMatches()
    {
        var kind = new HmmKind();
        var spec = ModelSpec.Parse("""
            {"name":"regimes","kind":"hmm","initialProbabilities":[0.4,0.3,0.3],
             "transition":[[0.8,0.1,0.1],[0.1,0.8,0.1],[0.1,0.1,0.8]],
             "emission":{"type":"gaussian","means":[-1,0.5,2],"variances":[1,1,1]}}
            """);
        var data = HmmOracle.Data();
        var result = kind.FitEm(spec, [data], ["transition", "emission"], new FitOptions { MaxIterations = 500, Tolerance = 1e-8 });
        Assert.Equal("em", result.Method);
        Assert.True(result.Converged);
        Assert.True(result.LogLikelihood > HmmOracle.Expected().GetProperty("loglik").GetDouble() - 1e-6, "EM should reach at least the true-parameter likelihood");
        var fitted = ModelCatalog.Build(ModelSpec.Parse(result.Spec.ToJsonString()));
        Expect.Close(result.LogLikelihood, LogLikelihood.Evaluate(fitted, [data]), 1e-9, "filter loglik of fitted spec");
        Assert.Equal([0.4, 0.3, 0.3], result.Spec["initialProbabilities"]!.AsArray().Select(v => v!.GetValue<double>()));
    }

    [Fact]
    public void Fit_UnknownParameter_FailsNamingIt()
    {
        var e = Assert.Throws<ModelValidationException>(() => BaumWelch.Fit(HmmOracle.Model(), [HmmOracle.Data(10)], ["emission.rates"]));
        Assert.Equal("emission.rates", e.Field);
        Assert.Contains("emission.means", e.Problem, StringComparison.Ordinal);
    }

    private static void AssertNonDecreasing(List<double> values)
    {
        Assert.True(values.Count >= 2);
        for (var i = 1; i < values.Count; i++)
        {
            Assert.True(values[i] >= values[i - 1] - (1e-9 * Math.Abs(values[i - 1])), $"EM lowered the log-likelihood at iteration {i + 1}: {values[i - 1]:R} -> {values[i]:R}");
        }
    }

    private static ObservationSeries Simulate(Random rng, double[] pi, double[] a, int length, Func<int, Random, double[]> emit, double missingRate, int dimension, bool componentwise = false)
    {
        var k = pi.Length;
        var values = new double[length * dimension];
        var s = Draw(rng, pi);
        for (var t = 0; t < length; t++)
        {
            if (t > 0)
            {
                s = Draw(rng, a.AsSpan(s * k, k).ToArray());
            }

            var y = emit(s, rng);
            var wholeMissing = !componentwise && rng.NextDouble() < missingRate;
            for (var i = 0; i < dimension; i++)
            {
                var missing = componentwise ? rng.NextDouble() < missingRate : wholeMissing;
                values[(t * dimension) + i] = missing ? double.NaN : y[i];
            }
        }

        return new ObservationSeries(dimension, values);
    }

    private static int Draw(Random rng, double[] p)
    {
        var u = rng.NextDouble();
        for (var i = 0; i < p.Length - 1; i++)
        {
            u -= p[i];
            if (u < 0)
            {
                return i;
            }
        }

        return p.Length - 1;
    }

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static double ChiSquare(Random rng, int dof) => Enumerable.Range(0, dof).Sum(_ => Math.Pow(Normal(rng), 2));

    private static double Poisson(Random rng, double rate)
    {
        var limit = Math.Exp(-rate);
        var count = 0;
        var p = rng.NextDouble();
        while (p > limit)
        {
            count++;
            p *= rng.NextDouble();
        }

        return count;
    }

    private sealed class Recorder : IProgress<FitProgress>
    {
        public List<double> LogLikelihoods { get; } = [];

        public void Report(FitProgress value) => LogLikelihoods.Add(value.LogLikelihood);
    }
}
