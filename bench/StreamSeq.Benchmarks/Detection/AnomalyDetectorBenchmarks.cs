using BenchmarkDotNet.Attributes;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Detection;

namespace StreamSeq.Benchmarks.Detection;

/// <summary>
/// One <see cref="AnomalyDetector"/> step in steady state through the public step contract: five-minute data with a
/// daily cycle, noise and occasional spikes (level, daily and weekly profile and marginal experts all active), and
/// hourly data; and 5-minute data with the optional exceedance tail and evidence channel switched on. The detector
/// first learns two weeks of the series; observations then cycle through the buffer.
/// </summary>
[MemoryDiagnoser]
public class AnomalyDetectorBenchmarks
{
    private const int Steps = 4096;
    private readonly AnomalyDetector detector = new();
    private readonly AnomalyDetector optional = new(new AnomalyDetectorOptions { TailModel = "exceedance", EvidenceWindow = 10 });
    private double[] fiveMinuteState = null!, hourlyState = null!, optionalState = null!;
    private Estimate fiveMinuteEstimate = null!, hourlyEstimate = null!, optionalEstimate = null!;
    private double[] y = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        y = new double[Steps];
        for (var i = 0; i < Steps; i++)
        {
            y[i] = 50 + (10 * Math.Sin(2 * Math.PI * i / 288.0)) + (rng.NextDouble() * 3) + (rng.Next(500) == 0 ? 40 : 0);
        }

        (fiveMinuteState, fiveMinuteEstimate) = Prepare(300.0);
        (hourlyState, hourlyEstimate) = Prepare(3600.0);
        (optionalState, optionalEstimate) = Prepare(optional, 300.0);
    }

    [Benchmark(OperationsPerInvoke = Steps, Description = "5-minute data: level + daily (288 bins) + weekly (2016 bins) + marginal")]
    public double FiveMinute() => Run(detector, fiveMinuteState, fiveMinuteEstimate, 300.0);

    [Benchmark(OperationsPerInvoke = Steps, Description = "hourly data: level + daily (24 bins) + weekly (168 bins) + marginal")]
    public double Hourly() => Run(detector, hourlyState, hourlyEstimate, 3600.0);

    [Benchmark(OperationsPerInvoke = Steps, Description = "5-minute data, optional exceedance tail and evidence channel (W = 10)")]
    public double FiveMinuteExceedanceEvidence() => Run(optional, optionalState, optionalEstimate, 300.0);

    /// <summary>Steps through the buffer once; returns the summed scores so the work cannot be skipped.</summary>
    private double Run(AnomalyDetector model, double[] state, Estimate estimate, double gap)
    {
        var sum = 0.0;
        for (var i = 0; i < Steps; i++)
        {
            model.Step(state, new Observation(y.AsSpan(i, 1), gap), estimate, default);
            sum += model.AnomalyScore(estimate);
        }

        return sum;
    }

    private (double[], Estimate) Prepare(double gap) => Prepare(detector, gap);

    private (double[], Estimate) Prepare(AnomalyDetector model, double gap)
    {
        var state = new double[model.Info.StateLength];
        model.Initialize(state, 0);
        var estimate = new Estimate(model.Info);
        for (var i = 0; i < Steps; i++)
        {
            model.Step(state, new Observation(y.AsSpan(i, 1), gap), estimate, default);
        }

        return (state, estimate);
    }
}
