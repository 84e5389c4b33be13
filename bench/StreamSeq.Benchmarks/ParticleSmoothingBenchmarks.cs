using BenchmarkDotNet.Attributes;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Particles;

namespace StreamSeq.Benchmarks;

/// <summary>
/// One fixed-interval backward step of the particle filter on the nonstationary growth model (1,000 particles):
/// marginal FFBSm weights (N² transition densities) against ancestor tracing (N lineage lookups).
/// </summary>
[MemoryDiagnoser]
public class ParticleSmoothingBenchmarks
{
    private readonly List<double[]> records = [];
    private ParticleFilter filter = null!;
    private double[] message = null!;

    [Params(ParticleSmoothing.Marginal, ParticleSmoothing.Ancestors)]
    public ParticleSmoothing Smoothing { get; set; }

    [Params(1000)]
    public int Particles { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        filter = new ParticleFilter(new NonstationaryGrowthModel(), new ParticleFilterOptions { ParticleCount = Particles, IntervalSmoothing = Smoothing });
        var state = new double[filter.Info.StateLength];
        var estimate = new Estimate(filter.Info);
        filter.Initialize(state, 42);
        var simulation = ParticleRandom.FromSeed(1);
        var truth = Math.Sqrt(5) * simulation.NextGaussian();
        var value = new double[1];
        for (var t = 1; t <= 60; t++)
        {
            var x = truth;
            truth = (0.5 * x) + (25 * x / (1 + (x * x))) + (8 * Math.Cos(1.2 * t)) + (Math.Sqrt(10) * simulation.NextGaussian());
            value[0] = (truth * truth / 20) + simulation.NextGaussian();
            var record = new double[filter.Info.BackwardRecordLength];
            filter.Step(state, new Observation(value), estimate, record);
            records.Add(record);
        }

        message = new double[filter.Info.SmoothingMessageLength];
        filter.StartBackward(records[^1], message);
    }

    /// <summary>The backward step from reading 60 to 59 (the message keeps its valid weights or lineage between
    /// invocations).</summary>
    [Benchmark]
    public double BackwardStep()
    {
        filter.BackwardOverInterval(records[^2], records[^1], message);
        return message[0];
    }
}
