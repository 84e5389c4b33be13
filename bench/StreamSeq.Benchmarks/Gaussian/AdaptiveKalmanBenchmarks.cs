using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Benchmarks.Gaussian;

/// <summary>
/// The cost of online noise learning: one step of a model whose streams learn their observation noise and every
/// transition-noise rate (<c>adapt</c>, default settings: recursive maximum likelihood) against the fixed step of the
/// same model, same data, in steady state (after the diffuse start), through <see cref="IEstimator.Step"/>; and the
/// extended and unscented filters of the pendulum learning their observation noise by variational Bayes (the only
/// method these kinds have). The target is at most 3x, with no allocation.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class AdaptiveKalmanBenchmarks
{
    private const int Steps = 1024;
    private const string LocalLevel = """{"name": "ll", "kind": "linear-gaussian", "components": [{"type": "local-level", "levelNoise": 0.1}], "observationNoise": [[1.0]] ADAPT}""";
    private const string LocalLinearTrend = """{"name": "llt", "kind": "linear-gaussian", "components": [{"type": "local-linear-trend", "levelNoise": 0.1, "slopeNoise": 0.001}], "observationNoise": [[1.0]] ADAPT}""";
    private const string ConstantVelocity = """{"name": "cv", "kind": "linear-gaussian", "components": [{"type": "constant-velocity", "accelerationNoise": 0.1, "dimensions": 2}], "observationNoise": [[1.0, 0], [0, 2.0]] ADAPT}""";

    private const string Pendulum = """{"name": "p", "kind": "KIND", "model": {"type": "pendulum", "dt": 0.01, "g": 9.81, "qc": 0.1, "observationNoise": 0.01, "initialMean": [1, 0], "initialCovariance": [[0.01, 0], [0, 0.04]]} ADAPT}""";

    private readonly Dictionary<string, (IEstimator Filter, double[] State, Estimate Estimate)> runs = [];
    private double[] y1 = null!, y2 = null!, swing = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        var level = 0.0;
        y1 = new double[Steps];
        y2 = new double[2 * Steps];
        for (var i = 0; i < Steps; i++)
        {
            level += 0.3 * Normal(rng);
            y1[i] = level + Normal(rng);
            y2[2 * i] = (0.1 * i) + Normal(rng);
            y2[(2 * i) + 1] = (-0.05 * i) + (1.4 * Normal(rng));
        }

        swing = new double[Steps];
        var (angle, rate) = (1.0, 0.0);
        for (var i = 0; i < Steps; i++)
        {
            (angle, rate) = (angle + (0.01 * rate), rate - (9.81 * Math.Sin(angle) * 0.01) + (0.03 * Normal(rng)));
            swing[i] = Math.Sin(angle) + (0.1 * Normal(rng));
        }

        Add("ll", LocalLevel, """, "adapt": ["observationNoise", "components[0].levelNoise"]""", 1);
        Add("llt", LocalLinearTrend, """, "adapt": ["observationNoise", "components[0].levelNoise", "components[0].slopeNoise"]""", 1);
        Add("cv", ConstantVelocity, """, "adapt": ["observationNoise", "components[0].accelerationNoise"]""", 2);
        Add("ekf", Pendulum.Replace("KIND", "extended-kalman", StringComparison.Ordinal), """, "adapt": ["model.observationNoise"]""", 1, swing);
        Add("ukf", Pendulum.Replace("KIND", "unscented-kalman", StringComparison.Ordinal), """, "adapt": ["model.observationNoise"]""", 1, swing);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Steps, Description = "fixed")]
    [BenchmarkCategory("local level (1 state, 1 obs; learns r, q)")]
    public void LocalLevelFixed() => Run("ll-fixed", y1, 1);

    [Benchmark(OperationsPerInvoke = Steps, Description = "adaptive")]
    [BenchmarkCategory("local level (1 state, 1 obs; learns r, q)")]
    public void LocalLevelAdaptive() => Run("ll-adaptive", y1, 1);

    [Benchmark(Baseline = true, OperationsPerInvoke = Steps, Description = "fixed")]
    [BenchmarkCategory("local linear trend (2 states, 1 obs; learns r, q_level, q_slope)")]
    public void LocalLinearTrendFixed() => Run("llt-fixed", y1, 1);

    [Benchmark(OperationsPerInvoke = Steps, Description = "adaptive")]
    [BenchmarkCategory("local linear trend (2 states, 1 obs; learns r, q_level, q_slope)")]
    public void LocalLinearTrendAdaptive() => Run("llt-adaptive", y1, 1);

    [Benchmark(Baseline = true, OperationsPerInvoke = Steps, Description = "fixed")]
    [BenchmarkCategory("constant velocity 2-D (4 states, 2 obs; learns r_x, r_y, q)")]
    public void ConstantVelocityFixed() => Run("cv-fixed", y2, 2);

    [Benchmark(OperationsPerInvoke = Steps, Description = "adaptive")]
    [BenchmarkCategory("constant velocity 2-D (4 states, 2 obs; learns r_x, r_y, q)")]
    public void ConstantVelocityAdaptive() => Run("cv-adaptive", y2, 2);

    [Benchmark(Baseline = true, OperationsPerInvoke = Steps, Description = "fixed")]
    [BenchmarkCategory("pendulum EKF (2 states, 1 obs; learns r)")]
    public void PendulumExtendedFixed() => Run("ekf-fixed", swing, 1);

    [Benchmark(OperationsPerInvoke = Steps, Description = "adaptive")]
    [BenchmarkCategory("pendulum EKF (2 states, 1 obs; learns r)")]
    public void PendulumExtendedAdaptive() => Run("ekf-adaptive", swing, 1);

    [Benchmark(Baseline = true, OperationsPerInvoke = Steps, Description = "fixed")]
    [BenchmarkCategory("pendulum UKF (2 states, 1 obs; learns r)")]
    public void PendulumUnscentedFixed() => Run("ukf-fixed", swing, 1);

    [Benchmark(OperationsPerInvoke = Steps, Description = "adaptive")]
    [BenchmarkCategory("pendulum UKF (2 states, 1 obs; learns r)")]
    public void PendulumUnscentedAdaptive() => Run("ukf-adaptive", swing, 1);

    private void Run(string key, double[] y, int m)
    {
        var (filter, state, estimate) = runs[key];
        for (var i = 0; i < Steps; i++)
        {
            filter.Step(state, new Observation(y.AsSpan(m * i, m), 1.0), estimate, default);
        }
    }

    private void Add(string name, string template, string adapt, int m, double[]? readings = null)
    {
        foreach (var (suffix, extra) in new[] { ("fixed", string.Empty), ("adaptive", adapt) })
        {
            var filter = ModelCatalog.Build(ModelSpec.Parse(template.Replace("ADAPT", extra, StringComparison.Ordinal)));
            var state = new double[filter.Info.StateLength];
            filter.Initialize(state, 0);
            var estimate = new Estimate(filter.Info);
            var y = readings ?? (m == 1 ? y1 : y2);
            for (var i = 0; i < Steps; i++)
            {
                // Past the diffuse start and the learning's first steps, into the steady state.
                filter.Step(state, new Observation(y.AsSpan(m * i, m), 1.0), estimate, default);
            }

            runs[$"{name}-{suffix}"] = (filter, state, estimate);
        }
    }

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
