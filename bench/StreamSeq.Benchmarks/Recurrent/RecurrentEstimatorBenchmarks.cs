using BenchmarkDotNet.Attributes;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian.Nonlinear;
using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Benchmarks.Recurrent;

/// <summary>
/// One estimator step in steady state for the recurrent kinds: the deterministic net (network step, head, Gaussian
/// density, bookkeeping) on the oracle LSTM (2 layers, hidden 8, f64 and f32), and the unscented Kalman filter over
/// the hidden state of a one-layer LSTM with hidden 8 (n = 18, 37 sigma points).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[MinColumn]
public class RecurrentEstimatorBenchmarks
{
    private IEstimator deterministic64 = null!;
    private IEstimator deterministic32 = null!;
    private IEstimator ukf = null!;
    private double[] state64 = null!, state32 = null!, ukfState = null!;
    private Estimate estimate64 = null!, estimate32 = null!, ukfEstimate = null!;
    private readonly double[] y = [0.3, -0.2];
    private readonly double[] u = [0.1];
    private readonly double[] scalar = [0.4];

    [GlobalSetup]
    public void Setup()
    {
        var weights = TorchJsonFormat.ReadFile(RecurrentBenchmarkData.Fixture("lstm_weights.json"));
        var layout = new RecurrentLayout(2, 1, RecurrentHeadType.Point, pointVariance: [1.0, 1.0]);
        deterministic64 = new RecurrentEstimator(new NetworkBackend<double>(new LstmNetwork<double>(weights, 3, 8, 2), new LinearHead<double>(weights, 8, 2)), layout);
        deterministic32 = new RecurrentEstimator(new NetworkBackend<float>(new LstmNetwork<float>(weights, 3, 8, 2), new LinearHead<float>(weights, 8, 2)), layout);
        var trained = SafeTensorsFormat.ReadFile(RecurrentBenchmarkData.Example("recurrent-nar.safetensors"));
        var backend = new NetworkBackend<double>(new LstmNetwork<double>(trained, 1, 8, 1), new LinearHead<double>(trained, 8, 2));
        ukf = new UnscentedKalmanFilter(RecurrentStateSpace.Build(backend, new RecurrentLayout(1), [1e-4], [0.25], [1e-4]));
        (state64, estimate64) = Warm(deterministic64, y, u);
        (state32, estimate32) = Warm(deterministic32, y, u);
        (ukfState, ukfEstimate) = Warm(ukf, scalar, []);
    }

    [Benchmark(Description = "recurrent f64 (oracle LSTM), Step")]
    public double DeterministicDouble()
    {
        deterministic64.Step(state64, new Observation(y, control: u), estimate64, default);
        return estimate64.LogLikelihood;
    }

    [Benchmark(Description = "recurrent f32 (oracle LSTM), Step")]
    public double DeterministicSingle()
    {
        deterministic32.Step(state32, new Observation(y, control: u), estimate32, default);
        return estimate32.LogLikelihood;
    }

    [Benchmark(Description = "recurrent-ukf (LSTM h8, n=18), Step")]
    public double Unscented()
    {
        ukf.Step(ukfState, new Observation(scalar), ukfEstimate, default);
        return ukfEstimate.LogLikelihood;
    }

    private static (double[] State, Estimate Estimate) Warm(IEstimator estimator, double[] values, double[] control)
    {
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 1);
        var estimate = new Estimate(estimator.Info);
        for (var t = 0; t < 100; t++)
        {
            estimator.Step(state, new Observation(values, control: control), estimate, default);
        }

        return (state, estimate);
    }
}
