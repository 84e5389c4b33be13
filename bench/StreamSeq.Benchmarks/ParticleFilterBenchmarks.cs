using BenchmarkDotNet.Attributes;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Particles;

namespace StreamSeq.Benchmarks;

/// <summary>One particle-filter step in steady state on the nonstationary growth model (1,000 particles).</summary>
[MemoryDiagnoser]
public class ParticleFilterBenchmarks
{
    private readonly double[] value = new double[1];
    private ParticleRandom simulation;
    private double truth;
    private ParticleFilter filter = null!;
    private double[] state = null!;
    private Estimate estimate = null!;
    private long t;

    [Params(ParticleFilterAlgorithm.Bootstrap, ParticleFilterAlgorithm.Auxiliary)]
    public ParticleFilterAlgorithm Algorithm { get; set; }

    [Params(1.0, 0.5)]
    public double EssThreshold { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        filter = new ParticleFilter(new NonstationaryGrowthModel(), new ParticleFilterOptions
        {
            ParticleCount = 1000,
            Resampling = ResamplingScheme.Systematic,
            EssThreshold = EssThreshold,
            Algorithm = Algorithm,
        });
        state = new double[filter.Info.StateLength];
        estimate = new Estimate(filter.Info);
        filter.Initialize(state, 42);
        simulation = ParticleRandom.FromSeed(1);
        truth = Math.Sqrt(5) * simulation.NextGaussian();
        for (var i = 0; i < 200; i++)
        {
            Step();
        }
    }

    /// <summary>Simulates the next observation of the model (a few ns) and filters it.</summary>
    [Benchmark]
    public double Step()
    {
        t++;
        var x = truth;
        truth = (0.5 * x) + (25 * x / (1 + (x * x))) + (8 * Math.Cos(1.2 * t)) + (Math.Sqrt(10) * simulation.NextGaussian());
        value[0] = (truth * truth / 20) + simulation.NextGaussian();
        filter.Step(state, new Observation(value), estimate, default);
        return estimate.LogLikelihood;
    }
}
