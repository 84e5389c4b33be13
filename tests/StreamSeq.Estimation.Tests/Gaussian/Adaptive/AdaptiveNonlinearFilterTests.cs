using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian.Adaptive;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;
using Xunit.Abstractions;

namespace StreamSeq.Estimation.Tests.Gaussian.Adaptive;

/// <summary>
/// Variational-Bayes learning of the observation noise by the extended and unscented filters: on a linear model both are
/// exact and must reproduce <see cref="AdaptiveFilterReference"/> (the dense Särkkä–Nummenmaa filter the linear kind is
/// checked against); on the pendulum the EKF must reproduce a dense EKF written out by hand, and both filters must
/// recover a fleet's true noise.
/// </summary>
public sealed class AdaptiveNonlinearFilterTests(ITestOutputHelper output)
{
    private static readonly MatrixBuilder<double> M = Matrix<double>.Build;
    private static readonly VectorBuilder<double> V = Vector<double>.Build;

    private static string Pendulum(string kind, double r, string adaptation) => string.Create(
        CultureInfo.InvariantCulture,
        $$"""
        {"name": "swing", "kind": "{{kind}}",
         "model": {"type": "pendulum", "dt": 0.01, "g": 9.81, "qc": 0.1, "observationNoise": {{r:R}},
                   "initialMean": [1, 0], "initialCovariance": [[0.01, 0], [0, 0.04]]},
         "adapt": ["model.observationNoise"] {{adaptation}}}
        """);

    [Theory]
    [InlineData("extended-kalman", 1)]
    [InlineData("extended-kalman", 3)]
    [InlineData("unscented-kalman", 1)]
    [InlineData("unscented-kalman", 3)]
    public void Step_LinearModelWithGapsMissingValuesAndSpikes_MatchesDenseVariationalReference(string kind, int iterations)
    {
        var spec = ModelSpec.Parse($$$"""
            {"name": "vb", "kind": "{{{kind}}}",
             "model": {"type": "linear", "components": [{"type": "local-level", "levelNoise": 0.2, "dimensions": 2}],
                       "observationNoise": [[1.5, 0], [0, 0.4]], "initialMean": [0, 0], "initialCovariance": [[10, 0], [0, 10]]},
             "adapt": ["model.observationNoise"],
             "adaptation": {"iterations": {{{iterations}}}, "priorWeight": 4, "forgetting": 0.98}}
            """);
        var filter = ModelCatalog.Build(spec);
        Assert.IsType<AdaptiveNonlinearFilter>(filter);
        var reference = new AdaptiveFilterReference(
            _ => M.DenseIdentity(2),
            _ => V.Dense(2),
            dt => M.DenseIdentity(2) * (0.2 * dt),
            [],
            [],
            M.DenseIdentity(2),
            V.Dense(2),
            M.DenseOfArray(new double[,] { { 1.5, 0 }, { 0, 0.4 } }),
            [false, false],
            [true, true],
            V.Dense(2),
            M.DenseIdentity(2) * 10,
            window: 50,
            gate: AdaptationSettings.DefaultGate,
            maxStep: AdaptationSettings.DefaultMaxStep,
            iterations: iterations,
            priorWeight: 4);
        var (gaps, values) = AdaptiveKalmanFilterReferenceTests.Data(300, 2, 13, (t, time) => [Math.Sqrt(time), -Math.Sqrt(time)]);
        AdaptiveKalmanFilterReferenceTests.Compare(filter, reference, gaps, values, r => [r.ObservationVariance(0), 0, 0, r.ObservationVariance(1)], 1e-9);
    }

    [Fact]
    public void Step_LinearModel_ExtendedFilterLearnsWhatTheLinearKindLearns()
    {
        // The same model as a linear-gaussian spec with variational-Bayes observation noise: the two kinds must agree.
        const string model = """
            "components": [{"type": "local-level", "levelNoise": 0.05}], "observationNoise": [[2.0]], "initialMean": [0], "initialCovariance": [[4]]
            """;
        var linear = ModelCatalog.Build(ModelSpec.Parse($$$"""{"name": "a", "kind": "linear-gaussian", {{{model}}}, "adapt": ["observationNoise"], "adaptation": {"observationNoise": "variational-bayes", "window": 30}}"""));
        var extended = ModelCatalog.Build(ModelSpec.Parse($$$"""{"name": "b", "kind": "extended-kalman", "model": {"type": "linear", {{{model}}}}, "adapt": ["model.observationNoise"], "adaptation": {"window": 30}}"""));
        var (gaps, values) = AdaptiveKalmanFilterReferenceTests.Data(400, 1, 21, (t, time) => [Math.Sin(time / 7.0)]);
        var a = new double[linear.Info.StateLength];
        var b = new double[extended.Info.StateLength];
        linear.Initialize(a, 0);
        extended.Initialize(b, 0);
        var ea = new Estimate(linear.Info);
        var eb = new Estimate(extended.Info);
        for (var t = 0; t < values.Length; t++)
        {
            linear.Step(a, new Observation(values[t], gaps[t]), ea, default);
            extended.Step(b, new Observation(values[t], gaps[t]), eb, default);
            Expect.Close(ea.Parameters, eb.Parameters, 1e-9, $"t={t} learned");
            Expect.Close(ea.ParameterDeviations, eb.ParameterDeviations, 1e-9, $"t={t} deviation");
            Expect.Close(ea.StateMean, eb.StateMean, 1e-9, $"t={t} mean");
            Expect.Close(ea.LogLikelihood, eb.LogLikelihood, 1e-9, $"t={t} logLik");
            Assert.Equal((ea.Flags & EstimateFlags.OutlierRejected) != 0, (eb.Flags & EstimateFlags.OutlierRejected) != 0);
            Assert.Equal(((IParameterLearner)linear).ReadingsLearned(a), ((IParameterLearner)extended).ReadingsLearned(b));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Step_PendulumExtendedFilter_MatchesDenseLinearisedReference(int iterations)
    {
        const double dt = 0.01, g = 9.81, qc = 0.1, lambda = 0.99;
        var filter = ModelCatalog.Build(ModelSpec.Parse(Pendulum("extended-kalman", 0.05, string.Create(CultureInfo.InvariantCulture, $$""", "adaptation": {"gate": 0, "window": 100, "iterations": {{iterations}}}"""))));
        var (truth, y) = SimulatePendulum(300, 0.02, new Random(31));
        for (var t = 7; t < y.Length; t += 13)
        {
            y[t] = double.NaN;
        }

        // The EKF written out for this model, with Särkkä–Nummenmaa's iteration on the linearised observation.
        var q = M.DenseOfArray(new[,] { { qc * dt * dt * dt / 3, qc * dt * dt / 2 }, { qc * dt * dt / 2, qc * dt } });
        var a = V.DenseOfArray([1.0, 0.0]);
        var p = M.DenseOfArray(new[,] { { 0.01, 0 }, { 0, 0.04 } });
        double alpha = 1.0, beta = 0.05;
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var estimate = new Estimate(filter.Info);
        for (var t = 0; t < y.Length; t++)
        {
            if (t > 0)
            {
                var f = M.DenseOfArray(new[,] { { 1, dt }, { -g * Math.Cos(a[0]) * dt, 1 } });
                a = V.DenseOfArray([a[0] + (a[1] * dt), a[1] - (g * Math.Sin(a[0]) * dt)]);
                p = (f * p * f.Transpose()) + q;
            }

            var am = a;
            var pm = p;
            var hRow = V.DenseOfArray([Math.Cos(am[0]), 0]);
            var s = (hRow * pm * hRow) + (beta / alpha);
            var v = y[t] - Math.Sin(am[0]);
            var logLik = double.IsFinite(y[t]) ? -0.5 * (Math.Log(2 * Math.PI * s) + (v * v / s)) : double.NaN;
            if (double.IsFinite(y[t]))
            {
                alpha = (lambda * alpha) + 0.5;
                var betaMinus = lambda * beta;
                beta = betaMinus;
                for (var i = 0; i < iterations; i++)
                {
                    var su = (hRow * pm * hRow) + (beta / alpha);
                    var k = pm * hRow / su;
                    a = am + (k * v);
                    p = pm - (k.OuterProduct(k) * su);
                    var h = V.DenseOfArray([Math.Cos(a[0]), 0]);
                    var residual = y[t] - Math.Sin(a[0]);
                    beta = betaMinus + (0.5 * residual * residual) + (0.5 * (h * p * h));
                }
            }

            filter.Step(state, new Observation([y[t]]), estimate, default);
            var at = $"t={t}";
            Expect.Close(a.ToArray(), estimate.StateMean, 1e-9, $"{at} mean", 1e-12);
            Expect.Close(p.ToRowMajorArray(), estimate.StateCovariance, 1e-8, $"{at} cov", 1e-14);
            Expect.Close(beta / alpha, estimate.Parameters[0], 1e-10, $"{at} learned r");
            Expect.Close(logLik, estimate.LogLikelihood, 1e-9, $"{at} logLik");
        }

        Assert.True(Math.Abs(truth[^1][0]) < 2.0, "the simulated pendulum swings");
    }

    [Theory]
    [InlineData("extended-kalman")]
    [InlineData("unscented-kalman")]
    public void Step_PendulumFleetStartedFourTimesTooHigh_LearnsTheTrueObservationNoise(string kind)
    {
        const double trueR = 0.01;
        var filter = ModelCatalog.Build(ModelSpec.Parse(Pendulum(kind, 4 * trueR, string.Empty)));
        var learned = 0.0;
        const int streams = 20;
        for (var s = 0; s < streams; s++)
        {
            var (_, y) = SimulatePendulum(1500, trueR, new Random(900 + s));
            var state = new double[filter.Info.StateLength];
            filter.Initialize(state, 0);
            var estimate = new Estimate(filter.Info);
            foreach (var value in y)
            {
                filter.Step(state, new Observation([value]), estimate, default);
            }

            learned += estimate.Parameters[0] / streams;
        }

        output.WriteLine($"{kind}: fleet mean of the learned r {learned:G4} (true {trueR}, spec 0.04)");
        Assert.InRange(learned / trueR, 0.9, 1.1);
    }

    [Theory]
    [InlineData("""["model.qc"]""", "adapt[0]")]
    [InlineData("""["model.observationNoise", "model.observationNoise"]""", "adapt[1]")]
    [InlineData("""[]""", "adapt")]
    public void Build_AdaptNamesWhatCannotBeLearned_FailsNamingTheEntry(string adapt, string field)
    {
        var spec = Pendulum("unscented-kalman", 0.01, string.Empty).Replace("""["model.observationNoise"]""", adapt, StringComparison.Ordinal);
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(spec)));
        Assert.Equal(field, e.Field);
    }

    [Theory]
    [InlineData("""{"observationNoise": "recursive-ml"}""", "adaptation.observationNoise")]
    [InlineData("""{"maxStep": 0.1}""", "adaptation.maxStep")]
    public void Build_AdaptationForAMethodTheKindLacks_FailsNamingTheField(string adaptation, string field)
    {
        var spec = Pendulum("extended-kalman", 0.01, $", \"adaptation\": {adaptation}");
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(spec)));
        Assert.Equal(field, e.Field);
    }

    /// <summary>The pendulum of the model spec: Euler steps of dt = 0.01 with the spec's process noise, y = sin(angle) + N(0, r).</summary>
    private static (double[][] States, double[] Readings) SimulatePendulum(int length, double r, Random rng)
    {
        const double dt = 0.01, g = 9.81, qc = 0.1;
        var chol = M.DenseOfArray(new[,] { { qc * dt * dt * dt / 3, qc * dt * dt / 2 }, { qc * dt * dt / 2, qc * dt } }).Cholesky().Factor;
        var x = V.DenseOfArray([1.0 + (0.1 * GaussianSimulation.Normal(rng)), 0.2 * GaussianSimulation.Normal(rng)]);
        var states = new double[length][];
        var y = new double[length];
        for (var t = 0; t < length; t++)
        {
            if (t > 0)
            {
                var w = chol * V.DenseOfArray([GaussianSimulation.Normal(rng), GaussianSimulation.Normal(rng)]);
                x = V.DenseOfArray([x[0] + (x[1] * dt) + w[0], x[1] - (g * Math.Sin(x[0]) * dt) + w[1]]);
            }

            states[t] = x.ToArray();
            y[t] = Math.Sin(x[0]) + (Math.Sqrt(r) * GaussianSimulation.Normal(rng));
        }

        return (states, y);
    }
}
