using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Benchmarks.Gaussian;

/// <summary>
/// The cost of online noise learning: one step of a model whose streams learn their observation noise and every
/// transition-noise rate (<c>adapt</c>, default settings: recursive maximum likelihood) against the fixed step of the
/// same model, same data, in steady state (after the diffuse start), through <see cref="IEstimator.Step"/>. The target
/// is at most 3x, with no allocation.
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

    private readonly Dictionary<string, (IEstimator Filter, double[] State, Estimate Estimate)> runs = [];
    private double[] y1 = null!, y2 = null!;

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

        Add("ll", LocalLevel, """, "adapt": ["observationNoise", "components[0].levelNoise"]""", 1);
        Add("llt", LocalLinearTrend, """, "adapt": ["observationNoise", "components[0].levelNoise", "components[0].slopeNoise"]""", 1);
        Add("cv", ConstantVelocity, """, "adapt": ["observationNoise", "components[0].accelerationNoise"]""", 2);
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

    private void Run(string key, double[] y, int m)
    {
        var (filter, state, estimate) = runs[key];
        for (var i = 0; i < Steps; i++)
        {
            filter.Step(state, new Observation(y.AsSpan(m * i, m), 1.0), estimate, default);
        }
    }

    private void Add(string name, string template, string adapt, int m)
    {
        foreach (var (suffix, extra) in new[] { ("fixed", string.Empty), ("adaptive", adapt) })
        {
            var filter = ModelCatalog.Build(ModelSpec.Parse(template.Replace("ADAPT", extra, StringComparison.Ordinal)));
            var state = new double[filter.Info.StateLength];
            filter.Initialize(state, 0);
            var estimate = new Estimate(filter.Info);
            var y = m == 1 ? y1 : y2;
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
