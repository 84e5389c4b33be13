using System.Text.Json.Nodes;
using CsCheck;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;
using Xunit.Abstractions;

namespace StreamSeq.Estimation.Tests.Gaussian;

/// <summary>
/// Linear Gaussian EM: the likelihood never decreases, the fixed point is the maximum-likelihood point (checked
/// against the independent optimiser of <see cref="MaximumLikelihood"/> and against the likelihood's gradient), and
/// noise covariances are recovered from long simulated data with missing components.
/// </summary>
public sealed class LinearGaussianEmTests(ITestOutputHelper output)
{
    private static readonly LinearGaussianKind Kind = new();

    private sealed class Recorder : IProgress<FitProgress>
    {
        public List<double> LogLikelihoods { get; } = [];

        public void Report(FitProgress value) => LogLikelihoods.Add(value.LogLikelihood);
    }

    private static double[] Matrix(JsonObject spec, string field)
    {
        var rows = spec[field]!.AsArray();
        return [.. rows.SelectMany(row => row!.AsArray().Select(v => v!.GetValue<double>()))];
    }

    [Fact]
    public void FitEm_RandomModelsAndMissingData_LogLikelihoodNeverDecreases() =>
        Gen.Select(Gen.Int[1, 3], Gen.Int[1, 3], Gen.Int[1, 63], Gen.Int[0, 1_000_000]).Sample(AssertMonotoneAndReportsItsSpec, iter: 60);

    [Fact]
    public void FitEm_ExplosiveModelWithAVarianceTheDataBarelySee_ReportsTheLogLikelihoodOfItsSpec()
    {
        // The property test's case (3, 3, 29, 347051): the data come from an explosive truth, and the fit (transition,
        // observation, observationNoise, initialMean) has a spectral radius above 1 and two nearly proportional
        // columns of H, so the predicted variance of the direction H barely sees grows to ~3e9 while the others
        // stay near 1. The filter's log-likelihood is then exact only to about 1e-6 (see LogLikelihoodRounding), and
        // the check compares at that precision; the kernels used to disagree by 3e-4 (KalmanFilterRoundingTests).
        AssertMonotoneAndReportsItsSpec(3, 3, 29, 347051);
    }

    private static void AssertMonotoneAndReportsItsSpec(int n, int m, int subset, int seed)
    {
        var problem = RandomEmProblem.Create(n, m, subset, seed);
        var chosen = problem.Fields;
        var data = problem.Data;
        foreach (var accelerate in new[] { false, true })
        {
            // Plain EM reports every M-step, so this checks each M-step; the accelerated loop reports accepted points.
            var recorder = new Recorder();
            var result = LinearGaussianEm.Fit(problem.Start, data, chosen, new FitOptions { MaxIterations = 25, Tolerance = double.NegativeInfinity, Progress = recorder }, accelerate);
            var lls = recorder.LogLikelihoods;
            var label = $"n={n} m={m} fields={string.Join(",", chosen)} seed={seed} accelerate={accelerate}";
            Assert.True(lls.Count >= 2, $"{label}: EM ran at least one iteration");
            for (var i = 1; i < lls.Count; i++)
            {
                Assert.True(lls[i] >= lls[i - 1] - (1e-9 * Math.Abs(lls[i - 1])), $"{label}: loglik fell from {lls[i - 1]:R} to {lls[i]:R} at report {i}");
            }

            // The reported log-likelihood is that of the returned spec, evaluated independently by the filter (another
            // kernel than EM's smoother): equal up to the rounding both carry, of which the bound is first order.
            var fitted = ModelCatalog.Build(ModelSpec.Parse(result.Spec.ToJsonString()));
            var rounding = LogLikelihoodRounding.Bound((KalmanFilter)fitted, data);
            Expect.Close(LogLikelihood.Evaluate(fitted, data), result.LogLikelihood, 1e-10, $"{label}: loglik of the returned spec (rounding bound {rounding:G3})", absTol: 2 * rounding);
            Assert.Equal(lls[^1], result.LogLikelihood);
        }
    }

    [Fact]
    public void FitEm_TwoStatesTwoObservationsTwentyPercentMissing_RecoversNoiseCovariancesWithinSamplingError()
    {
        double[] f = [0.8, 0.2, -0.1, 0.7];
        double[] h = [1.0, 0.0, 0.5, 1.0];
        double[] q = [1.0, 0.3, 0.3, 0.5];
        double[] r = [0.8, 0.2, 0.2, 0.6];
        double[] p1 = [2.0, 0.0, 0.0, 2.0];
        var truth = new LinearGaussianModel(new MatrixDynamics(2, f, q), 2, h, r, [0.0, 0.0], p1);
        var data = GaussianSimulation.Simulate(truth, 10_000, new Random(42), missing: 0.2);
        var missing = data.Values.Count(double.IsNaN) / (double)data.Values.Length;
        Assert.InRange(missing, 0.19, 0.21);

        var spec = LinearGaussianSpecJson.Spec(2, 2, f, [2.0, 0.5, 0.5, 2.0], h, [2.0, -0.5, -0.5, 2.0], [0.0, 0.0], p1);
        var result = Kind.FitEm(spec, [data], ["transitionNoise", "observationNoise"], new FitOptions { MaxIterations = 2000, Tolerance = 1e-6 });
        Assert.True(result.Converged);
        var qHat = Matrix(result.Spec, "transitionNoise");
        var rHat = Matrix(result.Spec, "observationNoise");

        // Standard errors from the observed information (finite-difference Hessian of the filter's log-likelihood
        // in the six free entries), so "within sampling error" is this data set's own, not a guessed tolerance.
        double[] theta = [qHat[0], qHat[1], qHat[3], rHat[0], rHat[1], rHat[3]];
        double LogLik(double[] x) => LogLikelihood.Evaluate(new KalmanFilter(new LinearGaussianModel(
            new MatrixDynamics(2, f, [x[0], x[1], x[1], x[2]]), 2, h, [x[3], x[4], x[4], x[5]], [0.0, 0.0], p1)), [data]);
        var se = StandardErrors(LogLik, theta);
        double[] expected = [q[0], q[1], q[3], r[0], r[1], r[3]];
        string[] names = ["Q00", "Q01", "Q11", "R00", "R01", "R11"];
        for (var i = 0; i < 6; i++)
        {
            output.WriteLine($"{names[i]}: true {expected[i]}, EM {theta[i]:F4}, SE {se[i]:F4}");
            Assert.True(se[i] < 0.1, $"{names[i]}: the data should pin it down (SE {se[i]:G3})");
            Assert.True(Math.Abs(theta[i] - expected[i]) < 4 * se[i], $"{names[i]}: EM {theta[i]:R} vs true {expected[i]} is more than 4 standard errors ({se[i]:G3}) away");
        }

        output.WriteLine($"{result.Iterations} iterations, loglik {result.LogLikelihood:R}");
    }

    [Fact]
    public void FitEm_MissingComponentsCorrelatedNoiseTwoSequences_ReachesTheMaximumLikelihoodPoint()
    {
        // Partially missing vectors with a correlated R are where a naive R update goes wrong: the EM fixed point
        // must still be the maximum of the likelihood the filter computes.
        double[] f = [0.9, 0.1, 0.0, 0.6];
        double[] h = [1.0, 0.5, -0.3, 1.0];
        double[] q = [0.5, 0.2, 0.2, 0.4];
        double[] r = [1.0, 0.6, 0.6, 0.9];
        double[] p1 = [1.0, 0.0, 0.0, 1.0];
        var truth = new LinearGaussianModel(new MatrixDynamics(2, f, q), 2, h, r, [0.0, 0.0], p1);
        var rng = new Random(7);
        List<ObservationSeries> data = [GaussianSimulation.Simulate(truth, 150, rng, missing: 0.3), GaussianSimulation.Simulate(truth, 120, rng, missing: 0.3)];
        var spec = LinearGaussianSpecJson.Spec(2, 2, f, [1.0, 0.1, 0.1, 1.0], h, [1.5, 0.2, 0.2, 1.5], [0.0, 0.0], p1);
        string[] fields = ["transitionNoise", "observationNoise"];
        var em = Kind.FitEm(spec, data, fields, new FitOptions { MaxIterations = 5000, Tolerance = 1e-11 });
        Assert.True(em.Converged);

        // The general-purpose optimiser, from the same start, does not find a higher likelihood; started at the EM
        // point, it cannot improve on it.
        var mle = MaximumLikelihood.Fit(spec, data, fields);
        var polish = MaximumLikelihood.Fit(ModelSpec.Parse(em.Spec.ToJsonString()), data, fields);
        output.WriteLine($"EM {em.LogLikelihood:R} ({em.Iterations} iterations); MLE from the start {mle.LogLikelihood:R}; MLE from the EM point {polish.LogLikelihood:R}");
        Assert.True(em.LogLikelihood >= mle.LogLikelihood - 1e-6, "EM reaches at least the optimiser's maximum");
        Expect.Close(em.LogLikelihood, polish.LogLikelihood, 0, "loglik after polishing the EM point", absTol: 1e-6);
        Expect.Close(Matrix(em.Spec, "transitionNoise"), Matrix(polish.Spec, "transitionNoise"), 1e-3, "Q", absTol: 1e-3);
        Expect.Close(Matrix(em.Spec, "observationNoise"), Matrix(polish.Spec, "observationNoise"), 1e-3, "R", absTol: 1e-3);

        // The gradient of the log-likelihood vanishes at the EM point.
        var qe = Matrix(em.Spec, "transitionNoise");
        var re = Matrix(em.Spec, "observationNoise");
        double[] theta = [qe[0], qe[1], qe[3], re[0], re[1], re[3]];
        double LogLik(double[] x) => LogLikelihood.Evaluate(new KalmanFilter(new LinearGaussianModel(
            new MatrixDynamics(2, f, [x[0], x[1], x[1], x[2]]), 2, h, [x[3], x[4], x[4], x[5]], [0.0, 0.0], p1)), data);
        for (var i = 0; i < theta.Length; i++)
        {
            var step = 1e-4;
            var plus = (double[])theta.Clone();
            var minus = (double[])theta.Clone();
            plus[i] += step;
            minus[i] -= step;
            var gradient = (LogLik(plus) - LogLik(minus)) / (2 * step);
            output.WriteLine($"d loglik / d theta[{i}] = {gradient:G3}");
            Assert.True(Math.Abs(gradient) < 1e-4, $"gradient[{i}] = {gradient:G3} at the EM point");
        }
    }

    /// <summary>Square roots of the diagonal of the inverse observed information at <paramref name="theta"/>.</summary>
    private static double[] StandardErrors(Func<double[], double> logLik, double[] theta)
    {
        var k = theta.Length;
        var steps = theta.Select(v => 1e-3 * Math.Max(Math.Abs(v), 0.1)).ToArray();
        double At(int i, double di, int j, double dj)
        {
            var x = (double[])theta.Clone();
            x[i] += di;
            x[j] += dj;
            return logLik(x);
        }

        var info = new double[k * k];
        var center = logLik(theta);
        for (var i = 0; i < k; i++)
        {
            for (var j = i; j < k; j++)
            {
                double second;
                if (i == j)
                {
                    second = (At(i, steps[i], i, 0) - (2 * center) + At(i, -steps[i], i, 0)) / (steps[i] * steps[i]);
                }
                else
                {
                    second = (At(i, steps[i], j, steps[j]) - At(i, steps[i], j, -steps[j]) - At(i, -steps[i], j, steps[j]) + At(i, -steps[i], j, -steps[j])) / (4 * steps[i] * steps[j]);
                }

                info[(i * k) + j] = -second;
                info[(j * k) + i] = -second;
            }
        }

        var inverse = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfRowMajor(k, k, info).Inverse();
        return [.. Enumerable.Range(0, k).Select(i => Math.Sqrt(inverse[i, i]))];
    }

    [Fact]
    public void Fit_ReadingsTooFarFromTheStartingModelForDoublePrecision_SaysWhichSequenceAndWhy()
    {
        var spec = ModelSpec.Parse("""{"name":"nile","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[1469.1]],"observation":[[1]],"observationNoise":[[15099]],"initialMean":[0],"initialCovariance":[[1e7]]}""");
        var y = Enumerable.Range(0, 50).Select(i => 1e200 * (i % 7)).ToArray();

        var e = Assert.Throws<ModelValidationException>(() => LinearGaussianEm.Fit(spec, [new ObservationSeries(1, [.. y.Select(v => v / 1e200)]), new ObservationSeries(1, y)], ["observationNoise"], new FitOptions()));

        Assert.Equal("fit", e.Field);
        Assert.Contains("(sequence 1 has log-likelihood -Infinity: a reading lies beyond double precision from its prediction)", e.Problem, StringComparison.Ordinal);
    }
}
