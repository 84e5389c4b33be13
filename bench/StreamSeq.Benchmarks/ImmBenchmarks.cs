using BenchmarkDotNet.Attributes;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Particles;
using StreamSeq.Estimation.Switching;

namespace StreamSeq.Benchmarks;

/// <summary>One IMM step in steady state: three constant-velocity modes (4 states, 2 observations) with gentle,
/// moderate and hard manoeuvre noise.</summary>
[MemoryDiagnoser]
public class ImmBenchmarks
{
    private readonly double[] ys = new double[2];
    private readonly double[] truth = [0, 0, 1, 0.5];
    private ParticleRandom simulation;
    private InteractingMultipleModelFilter filter = null!;
    private double[] state = null!;
    private Estimate estimate = null!;
    private long t;

    [GlobalSetup]
    public void Setup()
    {
        double[] f = [1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1];
        double[] q = [1.0 / 3, 0, 0.5, 0, 0, 1.0 / 3, 0, 0.5, 0.5, 0, 1, 0, 0, 0.5, 0, 1];
        double[] h = [1, 0, 0, 0, 0, 1, 0, 0];
        double[] r = [4, 0, 0, 4];
        double[] p1 = [100, 0, 0, 0, 0, 100, 0, 0, 0, 0, 10, 0, 0, 0, 0, 10];
        LinearGaussianModel Mode(double scale) =>
            new(new MatrixDynamics(4, f, [.. q.Select(v => v * scale)]), 2, h, r, new double[4], p1);
        filter = new InteractingMultipleModelFilter(new SwitchingLinearGaussianModel(
            [Mode(0.01), Mode(1), Mode(25)],
            [0.9, 0.08, 0.02, 0.05, 0.9, 0.05, 0.02, 0.08, 0.9],
            [1.0 / 3, 1.0 / 3, 1.0 / 3]));
        simulation = ParticleRandom.FromSeed(2);
        state = new double[filter.Info.StateLength];
        estimate = new Estimate(filter.Info);
        filter.Initialize(state, 0);
        for (var i = 0; i < 200; i++)
        {
            Step();
        }
    }

    /// <summary>Simulates the next position fix (manoeuvring every 100 steps; a few ns) and filters it.</summary>
    [Benchmark]
    public double Step()
    {
        var a = (t++ / 100) % 2 == 0 ? 0.05 : 2.0;
        truth[2] += a * simulation.NextGaussian();
        truth[3] += a * simulation.NextGaussian();
        truth[0] += truth[2];
        truth[1] += truth[3];
        ys[0] = truth[0] + (2 * simulation.NextGaussian());
        ys[1] = truth[1] + (2 * simulation.NextGaussian());
        filter.Step(state, new Observation(ys), estimate, default);
        return estimate.LogLikelihood;
    }
}
