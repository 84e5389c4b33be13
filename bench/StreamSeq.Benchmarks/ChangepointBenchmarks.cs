using BenchmarkDotNet.Attributes;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Changepoint;

namespace StreamSeq.Benchmarks;

/// <summary>
/// One step of Bayesian online changepoint detection with run lengths capped at 500 and no pruning, on a stationary
/// stream, so all 501 hypotheses stay alive (the worst case for the cap).
/// </summary>
[MemoryDiagnoser]
public class ChangepointBenchmarks
{
    private const int Steps = 256;
    private BayesianChangepointDetector detector = null!;
    private double[] state = null!;
    private Estimate estimate = null!;
    private double[] data = null!;

    [Params("normal-known-variance", "normal-gamma")]
    public string Observation { get; set; } = "normal-known-variance";

    [Params(RunLengthRecursion.Changepoint, RunLengthRecursion.AdamsMacKay)]
    public RunLengthRecursion Recursion { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        SegmentModel model = Observation == "normal-gamma"
            ? new NormalGammaModel([0.0], [1.0], [1.0], [1.0])
            : new NormalKnownVarianceModel([1.0], [0.0], [9.0]);
        detector = new BayesianChangepointDetector(new ConstantHazard(0.01), model, maxRunLength: 500, pruneBelow: 0.0, Recursion);
        state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        estimate = new Estimate(detector.Info);
        var rng = new Random(2);
        data = new double[Steps];
        for (var t = 0; t < Steps; t++)
        {
            data[t] = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        }

        // Fill the run-length posterior up to the cap before measuring.
        for (var i = 0; i < 3; i++)
        {
            Step();
        }
    }

    [Benchmark(OperationsPerInvoke = Steps)]
    public double Step()
    {
        for (var t = 0; t < Steps; t++)
        {
            detector.Step(state, new Observation(data.AsSpan(t, 1)), estimate, default);
        }

        return estimate.LogLikelihood;
    }
}
