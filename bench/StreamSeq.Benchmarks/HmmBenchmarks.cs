using BenchmarkDotNet.Attributes;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;

namespace StreamSeq.Benchmarks;

/// <summary>One forward step of a 3-state Gaussian HMM (predict, emission, update, online Viterbi, outputs).</summary>
[MemoryDiagnoser]
public class HmmBenchmarks
{
    private const int Steps = 1024;
    private HiddenMarkovFilter filter = null!;
    private double[] state = null!;
    private Estimate estimate = null!;
    private double[] data = null!;

    [GlobalSetup]
    public void Setup()
    {
        var model = new HiddenMarkovModel(
            [0.5, 0.3, 0.2],
            [0.90, 0.07, 0.03, 0.05, 0.90, 0.05, 0.04, 0.06, 0.90],
            new GaussianEmission([-2, 0, 3], [1.0, 0.5, 2.0]));
        filter = new HiddenMarkovFilter(model);
        state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        estimate = new Estimate(filter.Info);
        var rng = new Random(1);
        data = new double[Steps];
        var s = 0;
        for (var t = 0; t < Steps; t++)
        {
            if (rng.NextDouble() < 0.08)
            {
                s = rng.Next(3);
            }

            data[t] = (s == 0 ? -2 : s == 1 ? 0 : 3) + (rng.NextDouble() - 0.5);
        }

        // Reach steady state before measuring.
        ForwardStep();
    }

    [Benchmark(OperationsPerInvoke = Steps)]
    public double ForwardStep()
    {
        for (var t = 0; t < Steps; t++)
        {
            filter.Step(state, new Observation(data.AsSpan(t, 1)), estimate, default);
        }

        return estimate.LogLikelihood;
    }
}
