using System.Diagnostics;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Gaussian.ContinuousTime;
using StreamSeq.Estimation.Switching;

namespace StreamSeq.Benchmarks.Gaussian;

/// <summary>
/// A contention-tolerant companion to <see cref="KalmanStepBenchmarks"/>: runs the same steady-state steps (plus a
/// few more model shapes and the IMM) and times them in process CPU time, best of several rounds, so a shared,
/// oversubscribed machine inflates the numbers less than wall-clock time. Also counts bytes allocated per step.
/// Run with <c>dotnet run -c Release -- --gaussian-cpu-time</c>.
/// </summary>
internal static class GaussianCpuTimeProbe
{
    private const int Steps = 1024;

    public static void Run()
    {
        Console.WriteLine($"{"case",-58} {"CPU ns/step",12} {"steps/s (CPU)",15} {"wall ns/step",13} {"B/step",7}");
        var rng = new Random(1);
        var y1 = Enumerable.Range(0, Steps).Select(i => (0.1 * i) + rng.NextDouble()).ToArray();
        var y2 = Enumerable.Range(0, 2 * Steps).Select(i => (0.05 * i) + rng.NextDouble()).ToArray();
        double[] p4 = [10, 0, 0, 0, 0, 10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
        double[] h4 = [1, 0, 0, 0, 0, 1, 0, 0];
        double[] r2 = [4.0, 1.0, 1.0, 2.25];

        Case("local level (1 state, 1 obs)", new KalmanFilter(new LinearGaussianModel(new MatrixDynamics(1, [1.0], [1469.1]), 1, [1.0], [15099.0], [0.0], [1e7])), y1, 1);
        Case("local linear trend (2 states, 1 obs)", new KalmanFilter(new LinearGaussianModel(
            new MatrixDynamics(2, [1, 1, 0, 1], [0.1, 0, 0, 0.01]), 1, [1.0, 0.0], [1.0], [0.0, 0.0], [100.0, 0, 0, 100.0])), y1, 1);
        Case("constant velocity 2-D (4 states, 2 obs, gap-discretised)", new KalmanFilter(new LinearGaussianModel(
            new ContinuousTimeDynamics([new ConstantVelocity(0.5, 2)]), 2, h4, r2, [0, 0, 1, 0.5], p4)), y2, 2);
        Case("constant velocity 2-D (4 states, 2 obs, explicit F, Q)", new KalmanFilter(new LinearGaussianModel(
            new MatrixDynamics(4, [1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1], [1.0 / 6, 0, 0.25, 0, 0, 1.0 / 6, 0, 0.25, 0.25, 0, 0.5, 0, 0, 0.25, 0, 0.5]),
            2, h4, r2, [0, 0, 1, 0.5], p4)), y2, 2);
        Case("local linear trend + seasonal(12, 2 harmonics) (6 states, 1 obs)", new KalmanFilter(new LinearGaussianModel(
            new ContinuousTimeDynamics([new LocalLinearTrend(0.1, 0.01), new TrigonometricSeasonal(12, 2, 0.01)]), 1,
            [1, 0, 1, 0, 1, 0], [1.0], new double[6], [.. Enumerable.Range(0, 36).Select(i => i % 7 == 0 ? 10.0 : 0.0)])), y1, 1);

        // The README example (examples/sensors.json) with its default exact diffuse prior and readings about a minute
        // apart, after a day of readings (past the diffuse start).
        var sensorsDynamics = new ContinuousTimeDynamics([new LocalLinearTrend(0.0004, 1e-8), new TrigonometricSeasonal(1440, 2, 1e-6)]);
        double[] sensorsMean = new double[6], sensorsCov = new double[36], sensorsDiffuse = new double[36];
        sensorsDynamics.WriteInitial(sensorsMean, sensorsCov, sensorsDiffuse);
        var gaps = Enumerable.Range(0, Steps).Select(_ => 0.85 + (0.3 * rng.NextDouble())).ToArray();
        Case("README sensors: trend + seasonal(1440, 2), irregular gaps (6 states, 1 obs)", new KalmanFilter(new LinearGaussianModel(
            sensorsDynamics, 1, [1, 0, 1, 0, 1, 0], [0.04], sensorsMean, sensorsCov, sensorsDiffuse)), y1, 1, gaps);

        double[] f = [1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1];
        double[] q = [1.0 / 3, 0, 0.5, 0, 0, 1.0 / 3, 0, 0.5, 0.5, 0, 1, 0, 0, 0.5, 0, 1];
        double[] p1 = [100, 0, 0, 0, 0, 100, 0, 0, 0, 0, 10, 0, 0, 0, 0, 10];
        LinearGaussianModel Mode(double scale) => new(new MatrixDynamics(4, f, [.. q.Select(v => v * scale)]), 2, h4, [4, 0, 0, 4], new double[4], p1);
        Case("IMM, 3 constant-velocity modes (4 states, 2 obs)", new InteractingMultipleModelFilter(new SwitchingLinearGaussianModel(
            [Mode(0.01), Mode(1), Mode(25)], [0.9, 0.08, 0.02, 0.05, 0.9, 0.05, 0.02, 0.08, 0.9], [1.0 / 3, 1.0 / 3, 1.0 / 3])), y2, 2);
    }

    private static void Case(string name, IEstimator estimator, double[] ys, int m, double[]? gaps = null)
    {
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 0);
        var estimate = new Estimate(estimator.Info);
        void Sweep()
        {
            for (var i = 0; i < Steps; i++)
            {
                estimator.Step(state, new Observation(ys.AsSpan(m * i, m), gaps?[i] ?? 1.0), estimate, default);
            }
        }

        for (var i = 0; i < 200; i++)
        {
            Sweep();
        }

        // Size each round to about 0.1 s of work at the warm-up speed.
        var clock = Stopwatch.StartNew();
        Sweep();
        var sweeps = Math.Max(10, (int)(0.1 / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
        var process = Process.GetCurrentProcess();
        double bestCpu = double.MaxValue, bestWall = double.MaxValue;
        long allocated = 0;
        for (var round = 0; round < 9; round++)
        {
            process.Refresh();
            var cpu = process.TotalProcessorTime;
            var bytes = GC.GetAllocatedBytesForCurrentThread();
            clock.Restart();
            for (var s = 0; s < sweeps; s++)
            {
                Sweep();
            }

            var wall = clock.Elapsed.TotalSeconds;
            allocated = GC.GetAllocatedBytesForCurrentThread() - bytes;
            process.Refresh();
            var steps = (double)sweeps * Steps;
            bestCpu = Math.Min(bestCpu, (process.TotalProcessorTime - cpu).TotalSeconds / steps);
            bestWall = Math.Min(bestWall, wall / steps);
        }

        Console.WriteLine($"{name,-58} {bestCpu * 1e9,12:F1} {1 / bestCpu,15:N0} {bestWall * 1e9,13:F1} {allocated / ((double)sweeps * Steps),7:F2}");
    }
}
