using MathNet.Numerics.LinearAlgebra;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian.Adaptive;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Gaussian.Adaptive;

/// <summary>
/// The adaptive filter against <see cref="AdaptiveFilterReference"/>, a dense implementation of the published
/// equations: every predicted, observation and filtered moment, log-likelihood, NIS and learned value, to 1e-10, on
/// small models with irregular gaps, missing components, outliers and several methods at once.
/// </summary>
public sealed class AdaptiveKalmanFilterReferenceTests
{
    private static readonly MatrixBuilder<double> M = Matrix<double>.Build;
    private static readonly VectorBuilder<double> V = Vector<double>.Build;

    private static Matrix<double> Trend(double dt) => M.DenseOfArray(new[,] { { 1, dt }, { 0, 1 } });

    private static Matrix<double> Pair(double dt) => M.DenseOfArray(new[,] { { dt * dt * dt / 3, dt * dt / 2 }, { dt * dt / 2, dt } });

    /// <summary>Gaps between 0.1 and 4 model time units (every fifth one long), values missing now and then, and two
    /// spikes of 30 noise standard deviations (the second right after the first, so it is assimilated).</summary>
    internal static (double[] Gaps, double[][] Values) Data(int length, int m, int seed, Func<int, double, double[]> signal)
    {
        var rng = new Random(seed);
        var gaps = new double[length];
        var values = new double[length][];
        var time = 0.0;
        for (var t = 0; t < length; t++)
        {
            gaps[t] = t % 5 == 4 ? 4.0 : 0.1 + rng.NextDouble();
            time += gaps[t];
            var y = signal(t, time);
            for (var i = 0; i < m; i++)
            {
                y[i] += 0.7 * Normal(rng);
                if (rng.NextDouble() < 0.1)
                {
                    y[i] = double.NaN;
                }
            }

            if (t is 150 or 151 or 230)
            {
                y[0] = (double.IsFinite(y[0]) ? y[0] : 0) + 30.0;
            }

            values[t] = y;
        }

        return (gaps, values);
    }

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    internal static void Compare(IEstimator filter, AdaptiveFilterReference reference, double[] gaps, double[][] values, Func<AdaptiveFilterReference, double[]> learned, double tolerance = 1e-10)
    {
        // Two copies: one stepped by the fast kernels, one asked for smoothing records (the general kernel).
        var state = new double[filter.Info.StateLength];
        var general = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        filter.Initialize(general, 0);
        var estimate = new Estimate(filter.Info);
        var viaGeneral = new Estimate(filter.Info);
        var record = new double[filter.Info.BackwardRecordLength];
        var rejections = 0;
        for (var t = 0; t < values.Length; t++)
        {
            filter.Step(state, new Observation(values[t], gaps[t]), estimate, default);
            filter.Step(general, new Observation(values[t], gaps[t]), viaGeneral, record);
            reference.Step(gaps[t], values[t]);
            var at = $"t={t}";
            Expect.Close(viaGeneral.StateMean, estimate.StateMean, tolerance, $"{at} general kernel mean");
            Expect.Close(viaGeneral.StateCovariance, estimate.StateCovariance, tolerance, $"{at} general kernel cov", 1e-12);
            Expect.Close(viaGeneral.Parameters, estimate.Parameters, tolerance, $"{at} general kernel learned");
            Expect.Close(viaGeneral.ParameterDeviations, estimate.ParameterDeviations, tolerance, $"{at} general kernel deviations");
            Expect.Close(reference.PredictedMean.ToArray(), estimate.PredictedMean, tolerance, $"{at} predicted mean");
            Expect.Close(reference.PredictedCovariance.ToRowMajorArray(), estimate.PredictedCovariance, tolerance, $"{at} predicted cov");
            Expect.Close(reference.ObservationMean.ToArray(), estimate.ObservationMean, tolerance, $"{at} observation mean");
            Expect.Close(reference.ObservationCovariance.ToRowMajorArray(), estimate.ObservationCovariance, tolerance, $"{at} observation cov");
            Expect.Close(reference.Mean.ToArray(), estimate.StateMean, tolerance, $"{at} mean");
            Expect.Close(reference.Covariance.ToRowMajorArray(), estimate.StateCovariance, tolerance, $"{at} cov", 1e-12);
            Expect.Close(reference.LogLikelihood, estimate.LogLikelihood, tolerance, $"{at} logLik");
            Expect.Close(reference.Nis, estimate.NormalizedInnovationSquared, tolerance, $"{at} nis");
            Assert.Equal(reference.Rejected, (estimate.Flags & EstimateFlags.OutlierRejected) != 0);
            rejections += reference.Rejected ? 1 : 0;
            var expected = learned(reference);
            Expect.Close(expected, estimate.Parameters, tolerance, $"{at} learned");
        }

        Assert.True(rejections >= 2, $"the data should exercise the outlier gate ({rejections} rejections)");
    }

    [Fact]
    public void Step_LocalLinearTrendLearningAllThreeByRecursiveMl_MatchesDenseReference()
    {
        var spec = ModelSpec.Parse("""
            {"name": "t", "kind": "linear-gaussian",
             "components": [{"type": "local-linear-trend", "levelNoise": 0.3, "slopeNoise": 0.01}],
             "observationNoise": [[2.0]], "initialMean": [0, 0], "initialCovariance": [[100, 0], [0, 1]],
             "adapt": ["components[0].slopeNoise", "observationNoise", "components[0].levelNoise"],
             "adaptation": {"window": 50}}
            """);
        var filter = ModelCatalog.Build(spec);
        var reference = new AdaptiveFilterReference(
            Trend,
            _ => V.Dense(2),
            _ => M.Dense(2, 2),
            [dt => Pair(dt), dt => M.DenseOfArray(new[,] { { dt, 0 }, { 0, 0 } })],
            [0.01, 0.3],
            M.DenseOfArray(new double[,] { { 1, 0 } }),
            V.Dense(1),
            M.DenseOfArray(new double[,] { { 2.0 } }),
            [true],
            [false],
            V.Dense(2),
            M.DenseOfArray(new double[,] { { 100, 0 }, { 0, 1 } }),
            window: 50,
            gate: AdaptationSettings.DefaultGate,
            maxStep: AdaptationSettings.DefaultMaxStep,
            iterations: 1,
            priorWeight: 2);
        var (gaps, values) = Data(300, 1, 11, (t, time) => [0.05 * time * time / 10]);

        // adapt order: slopeNoise (scalar), observationNoise (1×1), levelNoise (scalar).
        Compare(filter, reference, gaps, values, r => [r.Rates[0], r.ObservationVariance(0), r.Rates[1]]);
    }

    [Fact]
    public void Step_LocalLevelLearningBothVariances_MatchesDenseReference()
    {
        var spec = ModelSpec.Parse("""
            {"name": "ll", "kind": "linear-gaussian",
             "components": [{"type": "local-level", "levelNoise": 0.05}],
             "observationNoise": [[0.5]], "initialMean": [1], "initialCovariance": [[20]],
             "adapt": ["observationNoise", "components[0].levelNoise"], "adaptation": {"window": 60}}
            """);
        var reference = new AdaptiveFilterReference(
            _ => M.DenseIdentity(1),
            _ => V.Dense(1),
            _ => M.Dense(1, 1),
            [dt => M.DenseIdentity(1) * dt],
            [0.05],
            M.DenseIdentity(1),
            V.Dense(1),
            M.DenseOfArray(new double[,] { { 0.5 } }),
            [true],
            [false],
            V.DenseOfArray([1.0]),
            M.DenseOfArray(new double[,] { { 20 } }),
            window: 60,
            gate: AdaptationSettings.DefaultGate,
            maxStep: AdaptationSettings.DefaultMaxStep,
            iterations: 1,
            priorWeight: 2);
        var (gaps, values) = Data(300, 1, 15, (t, time) => [Math.Sin(time / 9)]);
        Compare(ModelCatalog.Build(spec), reference, gaps, values, r => [r.ObservationVariance(0), r.Rates[0]]);
    }

    [Fact]
    public void Step_OrnsteinUhlenbeckVolatilityAloneWithOffsetObservation_MatchesDenseReference()
    {
        // The volatility σ enters Q as σ²: the learned rate is σ² and the reported value σ.
        var spec = ModelSpec.Parse("""
            {"name": "ou", "kind": "linear-gaussian",
             "components": [{"type": "ornstein-uhlenbeck", "meanReversion": 0.3, "mean": 2, "volatility": 0.8}],
             "observationNoise": [[0.3]], "adapt": ["components[0].volatility"]}
            """);
        const double theta = 0.3;
        var reference = new AdaptiveFilterReference(
            dt => M.DenseIdentity(1) * Math.Exp(-theta * dt),
            dt => V.DenseOfArray([2 * (1 - Math.Exp(-theta * dt))]),
            _ => M.Dense(1, 1),
            [dt => M.DenseIdentity(1) * (-double.ExpM1(-2 * theta * dt) / (2 * theta))],
            [0.64],
            M.DenseIdentity(1),
            V.Dense(1),
            M.DenseOfArray(new double[,] { { 0.3 } }),
            [false],
            [false],
            V.DenseOfArray([2.0]),
            M.DenseOfArray(new double[,] { { 0.64 / (2 * theta) } }),
            window: AdaptationSettings.DefaultWindow,
            gate: AdaptationSettings.DefaultGate,
            maxStep: AdaptationSettings.DefaultMaxStep,
            iterations: 1,
            priorWeight: 2);
        var (gaps, values) = Data(300, 1, 16, (t, time) => [2 + Math.Sin(time / 5)]);
        Compare(ModelCatalog.Build(spec), reference, gaps, values, r => [Math.Sqrt(r.Rates[0])]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Step_TrendPlusSeasonalReadByOneComponent_MatchesDenseReference(int harmonics)
    {
        // Three states (a 4-wide vector kernel) or six (the general stack kernel): one component reads them all.
        var spec = ModelSpec.Parse($$"""
            {"name": "season", "kind": "linear-gaussian",
             "components": [{"type": "local-linear-trend", "levelNoise": 0.2, "slopeNoise": 0.001},
                            {"type": "trigonometric-seasonal", "period": 24, "harmonics": {{harmonics}}, "seasonalNoise": 0.01}],
             "observationNoise": [[1.0]],
             "initialMean": [{{string.Join(", ", Enumerable.Repeat("0", 2 + (2 * harmonics)))}}],
             "initialCovariance": {{Identity(2 + (2 * harmonics), 25)}},
             "adapt": ["observationNoise", "components[1].seasonalNoise", "components[0].levelNoise"]}
            """);
        var n = 2 + (2 * harmonics);
        Matrix<double> F(double dt)
        {
            var f = M.Dense(n, n);
            f.SetSubMatrix(0, 0, Trend(dt));
            for (var j = 0; j < harmonics; j++)
            {
                var angle = 2 * Math.PI * (j + 1) / 24 * dt;
                f.SetSubMatrix(2 + (2 * j), 2 + (2 * j), M.DenseOfArray(new[,] { { Math.Cos(angle), Math.Sin(angle) }, { -Math.Sin(angle), Math.Cos(angle) } }));
            }

            return f;
        }

        Matrix<double> Level(double dt)
        {
            var b = M.Dense(n, n);
            b[0, 0] = dt;
            return b;
        }

        Matrix<double> Seasonal(double dt)
        {
            var b = M.Dense(n, n);
            for (var i = 2; i < n; i++)
            {
                b[i, i] = dt;
            }

            return b;
        }

        Matrix<double> Slope(double dt)
        {
            var b = M.Dense(n, n);
            b.SetSubMatrix(0, 0, 0.001 * Pair(dt));
            return b;
        }

        var h = M.Dense(1, n);
        h[0, 0] = 1;
        for (var j = 0; j < harmonics; j++)
        {
            h[0, 2 + (2 * j)] = 1;
        }

        var reference = new AdaptiveFilterReference(
            F,
            _ => V.Dense(n),
            Slope,
            [Seasonal, Level],
            [0.01, 0.2],
            h,
            V.Dense(1),
            M.DenseOfArray(new double[,] { { 1.0 } }),
            [true],
            [false],
            V.Dense(n),
            M.DenseIdentity(n) * 25,
            window: AdaptationSettings.DefaultWindow,
            gate: AdaptationSettings.DefaultGate,
            maxStep: AdaptationSettings.DefaultMaxStep,
            iterations: 1,
            priorWeight: 2);
        var (gaps, values) = Data(300, 1, 17, (t, time) => [(0.1 * time) + (3 * Math.Sin(2 * Math.PI * time / 24))]);

        // adapt order: observationNoise, seasonalNoise, levelNoise; the reference's rates are [seasonal, level].
        Compare(ModelCatalog.Build(spec), reference, gaps, values, r => [r.ObservationVariance(0), r.Rates[0], r.Rates[1]]);
    }

    private static string Identity(int n, double scale) =>
        "[" + string.Join(", ", Enumerable.Range(0, n).Select(i => "[" + string.Join(", ", Enumerable.Range(0, n).Select(j => i == j ? scale.ToString(System.Globalization.CultureInfo.InvariantCulture) : "0")) + "]")) + "]";

    [Fact]
    public void Step_ConstantVelocityTwoAxesWithMissingComponents_MatchesDenseReference()
    {
        var spec = ModelSpec.Parse("""
            {"name": "cv", "kind": "linear-gaussian",
             "components": [{"type": "constant-velocity", "accelerationNoise": 0.5, "dimensions": 2}],
             "observationNoise": [[1.0, 0], [0, 3.0]], "initialMean": [0, 0, 0, 0],
             "initialCovariance": [[50, 0, 0, 0], [0, 50, 0, 0], [0, 0, 5, 0], [0, 0, 0, 5]],
             "adapt": ["observationNoise", "components[0].accelerationNoise"],
             "adaptation": {"window": 80, "maxStep": 0.3}}
            """);
        var filter = ModelCatalog.Build(spec);
        Matrix<double> F(double dt) => M.DenseOfArray(new[,] { { 1, 0, dt, 0 }, { 0, 1, 0, dt }, { 0, 0, 1, 0 }, { 0, 0, 0, 1 } });
        Matrix<double> B(double dt)
        {
            var pair = Pair(dt);
            var b = M.Dense(4, 4);
            for (var axis = 0; axis < 2; axis++)
            {
                b[axis, axis] = pair[0, 0];
                b[axis, axis + 2] = pair[0, 1];
                b[axis + 2, axis] = pair[1, 0];
                b[axis + 2, axis + 2] = pair[1, 1];
            }

            return b;
        }

        var reference = new AdaptiveFilterReference(
            F,
            _ => V.Dense(4),
            _ => M.Dense(4, 4),
            [B],
            [0.5],
            M.DenseOfArray(new double[,] { { 1, 0, 0, 0 }, { 0, 1, 0, 0 } }),
            V.Dense(2),
            M.DenseOfArray(new double[,] { { 1.0, 0 }, { 0, 3.0 } }),
            [true, true],
            [false, false],
            V.Dense(4),
            M.DenseOfArray(new double[,] { { 50, 0, 0, 0 }, { 0, 50, 0, 0 }, { 0, 0, 5, 0 }, { 0, 0, 0, 5 } }),
            window: 80,
            gate: AdaptationSettings.DefaultGate,
            maxStep: 0.3,
            iterations: 1,
            priorWeight: 2);
        var (gaps, values) = Data(300, 2, 12, (t, time) => [3 * Math.Sin(time / 20), time / 7]);

        // observationNoise is a 2×2 matrix (diagonal learned), then the rate.
        Compare(filter, reference, gaps, values, r => [r.ObservationVariance(0), 0, 0, r.ObservationVariance(1), r.Rates[0]]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Step_VariationalObservationNoiseWithRecursiveLevelNoise_MatchesDenseReference(int iterations)
    {
        var spec = ModelSpec.Parse($$"""
            {"name": "vb", "kind": "linear-gaussian",
             "components": [{"type": "local-level", "levelNoise": 0.2, "dimensions": 2}],
             "observationNoise": [[1.5, 0], [0, 0.4]], "initialMean": [0, 0], "initialCovariance": [[10, 0], [0, 10]],
             "adapt": ["observationNoise", "components[0].levelNoise"],
             "adaptation": {"observationNoise": "variational-bayes", "iterations": {{iterations}}, "priorWeight": 4, "forgetting": 0.98}
             }
            """);
        var filter = ModelCatalog.Build(spec);
        var reference = new AdaptiveFilterReference(
            _ => M.DenseIdentity(2),
            _ => V.Dense(2),
            _ => M.Dense(2, 2),
            [dt => M.DenseIdentity(2) * dt],
            [0.2],
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
        var (gaps, values) = Data(300, 2, 13, (t, time) => [Math.Sqrt(time), -Math.Sqrt(time)]);
        Compare(filter, reference, gaps, values, r => [r.ObservationVariance(0), 0, 0, r.ObservationVariance(1), r.Rates[0]]);
    }

    [Fact]
    public void Step_ExplicitMatricesWithDiagonalTransitionNoise_MatchesDenseReference()
    {
        var spec = ModelSpec.Parse("""
            {"name": "ar", "kind": "linear-gaussian",
             "transition": [[0.9, 0.1], [0, 0.7]], "transitionNoise": [[0.5, 0], [0, 0.2]], "transitionOffset": [0.1, 0],
             "observation": [[1, 1]], "observationNoise": [[0.8]], "initialMean": [0, 0], "initialCovariance": [[2, 0], [0, 2]],
             "adapt": ["transitionNoise", "observationNoise"], "adaptation": {"window": 40, "gate": 0.001}}
            """);
        var filter = ModelCatalog.Build(spec);
        var reference = new AdaptiveFilterReference(
            _ => M.DenseOfArray(new[,] { { 0.9, 0.1 }, { 0, 0.7 } }),
            _ => V.DenseOfArray([0.1, 0]),
            _ => M.Dense(2, 2),
            [_ => M.DenseOfArray(new double[,] { { 1, 0 }, { 0, 0 } }), _ => M.DenseOfArray(new double[,] { { 0, 0 }, { 0, 1 } })],
            [0.5, 0.2],
            M.DenseOfArray(new double[,] { { 1, 1 } }),
            V.Dense(1),
            M.DenseOfArray(new double[,] { { 0.8 } }),
            [true],
            [false],
            V.Dense(2),
            M.DenseIdentity(2) * 2,
            window: 40,
            gate: 0.001,
            maxStep: AdaptationSettings.DefaultMaxStep,
            iterations: 1,
            priorWeight: 2);
        var (gaps, values) = Data(300, 1, 14, (t, time) => [Math.Cos(t / 10.0)]);
        Compare(filter, reference, gaps, values, r => [r.Rates[0], 0, 0, r.Rates[1], r.ObservationVariance(0)]);
    }
}
