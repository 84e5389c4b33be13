using BenchmarkDotNet.Attributes;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Gaussian.ContinuousTime;

namespace StreamSeq.Benchmarks.Gaussian;

/// <summary>
/// One Kalman predict+update step in steady state, through the public <see cref="IEstimator.Step"/> contract, for
/// the model sizes the issue sets targets for. Observations cycle through a pre-generated buffer so the step sees
/// realistic data; the state never resets.
/// </summary>
[MemoryDiagnoser]
public class KalmanStepBenchmarks
{
    private const int Steps = 1024;
    private IEstimator localLevel = null!;
    private IEstimator localLinearTrend = null!;
    private IEstimator constantVelocity2D = null!;
    private IEstimator sensors = null!;
    private double[] llState = null!, lltState = null!, cvState = null!, sensorsState = null!;
    private Estimate llEstimate = null!, lltEstimate = null!, cvEstimate = null!, sensorsEstimate = null!;
    private double[] y1 = null!, y2 = null!, gaps = null!;

    [GlobalSetup]
    public void Setup()
    {
        localLevel = new KalmanFilter(new LinearGaussianModel(new MatrixDynamics(1, [1.0], [1469.1]), 1, [1.0], [15099.0], [0.0], [1e7]));
        localLinearTrend = new KalmanFilter(new LinearGaussianModel(
            new MatrixDynamics(2, [1, 1, 0, 1], [0.1, 0, 0, 0.01]), 1, [1.0, 0.0], [1.0], [0.0, 0.0], [100.0, 0, 0, 100.0]));
        constantVelocity2D = new KalmanFilter(new LinearGaussianModel(
            new ContinuousTimeDynamics([new ConstantVelocity(0.5, 2)]), 2, [1, 0, 0, 0, 0, 1, 0, 0], [4.0, 1.0, 1.0, 2.25],
            [0, 0, 1, 0.5], [10, 0, 0, 0, 0, 10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]));
        // The README example (examples/sensors.json): trend + seasonal of period 1,440 with 2 harmonics, the
        // components' default (exact diffuse) prior, readings about a minute apart.
        var dynamics = new ContinuousTimeDynamics([new LocalLinearTrend(0.0004, 1e-8), new TrigonometricSeasonal(1440, 2, 1e-6)]);
        double[] mean = new double[6], cov = new double[36], diffuse = new double[36];
        dynamics.WriteInitial(mean, cov, diffuse);
        sensors = new KalmanFilter(new LinearGaussianModel(dynamics, 1, [1, 0, 1, 0, 1, 0], [0.04], mean, cov, diffuse));
        var rng = new Random(1);
        y1 = [.. Enumerable.Range(0, Steps).Select(i => (0.1 * i) + rng.NextDouble())];
        gaps = [.. Enumerable.Range(0, Steps).Select(_ => 0.85 + (0.3 * rng.NextDouble()))];
        y2 = [.. Enumerable.Range(0, 2 * Steps).Select(i => (0.05 * i) + rng.NextDouble())];
        (llState, llEstimate) = Prepare(localLevel);
        (lltState, lltEstimate) = Prepare(localLinearTrend);
        (cvState, cvEstimate) = Prepare(constantVelocity2D);
        (sensorsState, sensorsEstimate) = Prepare(sensors);
        for (var i = 0; i < Steps; i++)
        {
            // A day of readings first, so that the benchmark measures the steady state after the diffuse start.
            sensors.Step(sensorsState, new Observation(y1.AsSpan(i, 1), gaps[i]), sensorsEstimate, default);
        }
    }

    [Benchmark(OperationsPerInvoke = Steps, Description = "local level (1 state, 1 obs)")]
    public void LocalLevel()
    {
        for (var i = 0; i < Steps; i++)
        {
            localLevel.Step(llState, new Observation(y1.AsSpan(i, 1)), llEstimate, default);
        }
    }

    [Benchmark(OperationsPerInvoke = Steps, Description = "local linear trend (2 states, 1 obs)")]
    public void LocalLinearTrend()
    {
        for (var i = 0; i < Steps; i++)
        {
            localLinearTrend.Step(lltState, new Observation(y1.AsSpan(i, 1)), lltEstimate, default);
        }
    }

    [Benchmark(OperationsPerInvoke = Steps, Description = "constant velocity 2-D (4 states, 2 obs, gap-discretised)")]
    public void ConstantVelocity2D()
    {
        for (var i = 0; i < Steps; i++)
        {
            constantVelocity2D.Step(cvState, new Observation(y2.AsSpan(2 * i, 2), 1.0), cvEstimate, default);
        }
    }

    [Benchmark(OperationsPerInvoke = Steps, Description = "README sensors model: trend + seasonal(1440, 2) (6 states, 1 obs, irregular gaps)")]
    public void SensorsExample()
    {
        for (var i = 0; i < Steps; i++)
        {
            sensors.Step(sensorsState, new Observation(y1.AsSpan(i, 1), gaps[i]), sensorsEstimate, default);
        }
    }

    private static (double[], Estimate) Prepare(IEstimator estimator)
    {
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 0);
        var estimate = new Estimate(estimator.Info);
        var m = estimator.Info.ObservationDimension;
        for (var i = 0; i < 50; i++)
        {
            estimator.Step(state, new Observation(new double[m]), estimate, default);
        }

        return (state, estimate);
    }
}
