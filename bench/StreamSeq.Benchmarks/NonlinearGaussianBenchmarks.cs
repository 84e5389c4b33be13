using BenchmarkDotNet.Attributes;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Gaussian.Nonlinear;

namespace StreamSeq.Benchmarks;

/// <summary>
/// One predict + update step in steady state of the unscented and extended Kalman filters on a 4-state, 2-observation
/// constant-velocity model (the linear model run through the nonlinear filters), with the Kalman filter as baseline.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class NonlinearGaussianBenchmarks
{
    private const int DataLength = 1024;

    private readonly double[] observations = new double[DataLength * 2];
    private Runner kalman = null!;
    private Runner unscented = null!;
    private Runner unscentedExact = null!;
    private Runner extended = null!;
    private Runner unscentedWithRecord = null!;

    [GlobalSetup]
    public void Setup()
    {
        double[] f = [1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1];
        double[] q = [1.0 / 6, 0, 0.25, 0, 0, 1.0 / 6, 0, 0.25, 0.25, 0, 0.5, 0, 0, 0.25, 0, 0.5];
        double[] h = [1, 0, 0, 0, 0, 1, 0, 0];
        double[] r = [4.0, 1.0, 1.0, 2.25];
        double[] m0 = [0, 0, 1, 0.5];
        double[] p0 = [10, 0, 0, 0, 0, 10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
        var linear = new LinearGaussianModel(new MatrixDynamics(4, f, q), 2, h, r, m0, p0);
        var model = NonlinearModels.FromLinear(linear);

        // A track that turns back every 1024 steps so the data stay bounded when they are replayed.
        var rng = new Random(42);
        for (var t = 0; t < DataLength; t++)
        {
            var phase = 2 * Math.PI * t / DataLength;
            observations[2 * t] = (100 * Math.Sin(phase)) + (2 * (rng.NextDouble() - 0.5));
            observations[(2 * t) + 1] = (50 * Math.Cos(phase)) + (2 * (rng.NextDouble() - 0.5));
        }

        kalman = new Runner(new KalmanFilter(linear), observations, withRecord: false);
        unscented = new Runner(new UnscentedKalmanFilter(model), observations, withRecord: false);
        unscentedExact = new Runner(new UnscentedKalmanFilter(model, SigmaPoints.Merwe(1.0, 2.0, 0.0), robust: false), observations, withRecord: false);
        extended = new Runner(new ExtendedKalmanFilter(model), observations, withRecord: false);
        unscentedWithRecord = new Runner(new UnscentedKalmanFilter(model), observations, withRecord: true);
    }

    [Benchmark(Baseline = true)]
    public double KalmanStep() => kalman.Step();

    [Benchmark]
    public double UnscentedStep() => unscented.Step();

    [Benchmark]
    public double UnscentedStepFilterPyArithmetic() => unscentedExact.Step();

    [Benchmark]
    public double UnscentedStepWithBackwardRecord() => unscentedWithRecord.Step();

    [Benchmark]
    public double ExtendedStep() => extended.Step();

    /// <summary>One stream: its state, output buffers and position in the replayed data.</summary>
    private sealed class Runner
    {
        private readonly IEstimator estimator;
        private readonly double[] data;
        private readonly double[] state;
        private readonly double[] record;
        private readonly Estimate estimate;
        private int t;

        public Runner(IEstimator estimator, double[] data, bool withRecord)
        {
            this.estimator = estimator;
            this.data = data;
            state = new double[estimator.Info.StateLength];
            record = withRecord ? new double[estimator.Info.BackwardRecordLength] : [];
            estimate = new Estimate(estimator.Info);
            estimator.Initialize(state, 0);

            // Reach steady state before measuring.
            for (var i = 0; i < 4 * DataLength; i++)
            {
                Step();
            }
        }

        public double Step()
        {
            var i = t;
            t = (t + 1) & (DataLength - 1);
            estimator.Step(state, new Observation(data.AsSpan(2 * i, 2)), estimate, record);
            return estimate.LogLikelihood;
        }
    }
}
