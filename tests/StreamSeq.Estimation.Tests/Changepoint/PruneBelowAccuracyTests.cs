using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Changepoint;
using StreamSeq.Estimation.Tests.Support;
using Xunit.Abstractions;

namespace StreamSeq.Estimation.Tests.Changepoint;

/// <summary>
/// What the default <c>pruneBelow</c> (1e-10) costs: log p(y_t | y_{1:t-1}) with pruning against the unpruned
/// recursion (same run-length cap, larger than the series), on the oracle series and on level-shift series with
/// both segment models and two hazards. docs/model-specs.md states the bound this test checks.
/// </summary>
public sealed class PruneBelowAccuracyTests(ITestOutputHelper output)
{
    /// <summary>The per-step bound stated in docs/model-specs.md for the default.</summary>
    private const double StatedStepBound = 2e-6;

    /// <summary>The bound on the summed log-likelihood over a 2,000-step series stated in docs/model-specs.md.</summary>
    private const double StatedTotalBound = 2e-6;

    public static TheoryData<string> Cases() => ["oracle-known-variance", "shifts-known-variance", "shifts-normal-gamma", "shifts-normal-gamma-weibull", "scale-shifts-normal-gamma"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Step_DefaultPruneBelow_MovesLogLikelihoodWithinTheStatedAccuracy(string name)
    {
        var (series, hazard, segments) = Case(name);
        var cap = series.Length + 1;
        var pruned = Run(new BayesianChangepointDetector(hazard, segments, cap, BayesianChangepointDetector.DefaultPruneBelow), series);
        var exact = Run(new BayesianChangepointDetector(hazard, segments, cap, 0.0), series);
        var worst = 0.0;
        double totalPruned = 0, totalExact = 0;
        for (var t = 0; t < series.Length; t++)
        {
            worst = Math.Max(worst, Math.Abs(pruned[t] - exact[t]));
            totalPruned += pruned[t];
            totalExact += exact[t];
        }

        output.WriteLine($"{name}: {series.Length} steps, largest per-step |Δ logLik| = {worst:E2}, |Δ total| = {Math.Abs(totalPruned - totalExact):E2}");
        Assert.True(worst <= StatedStepBound, $"{name}: per-step difference {worst:E3}");
        Assert.True(Math.Abs(totalPruned - totalExact) <= StatedTotalBound, $"{name}: total difference {Math.Abs(totalPruned - totalExact):E3}");

        // Pruning must change something, or this test measures nothing.
        Assert.True(worst > 0.0, $"{name}: pruning changed nothing");
    }

    private static double[] Run(BayesianChangepointDetector detector, ObservationSeries series)
    {
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var estimate = new Estimate(detector.Info);
        var result = new double[series.Length];
        for (var t = 0; t < series.Length; t++)
        {
            detector.Step(state, series.At(t), estimate, default);
            result[t] = estimate.LogLikelihood;
        }

        return result;
    }

    private static (ObservationSeries Series, ChangepointHazard Hazard, SegmentModel Segments) Case(string name)
    {
        var random = new Random(20261204);
        double Gaussian() => Math.Sqrt(-2.0 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2.0 * Math.PI * random.NextDouble());
        double[] Shifts(int length, double noise)
        {
            var values = new double[length];
            var level = 0.0;
            for (var t = 0; t < length; t++)
            {
                if (random.NextDouble() < 0.01)
                {
                    level += 3.0 * Gaussian();
                }

                values[t] = level + (noise * Gaussian());
            }

            return values;
        }

        double[] ScaleShifts(int length)
        {
            var values = new double[length];
            var scale = 1.0;
            for (var t = 0; t < length; t++)
            {
                if (random.NextDouble() < 0.005)
                {
                    scale = Math.Exp(1.5 * Gaussian());
                }

                values[t] = scale * Gaussian();
            }

            return values;
        }

        return name switch
        {
            "oracle-known-variance" => (BocpdOracle.Data(), new ConstantHazard(BocpdOracle.Hazard), new NormalKnownVarianceModel([1.0], [0.0], [9.0])),
            "shifts-known-variance" => (new ObservationSeries(1, Shifts(2000, 1.0)), new ConstantHazard(0.01), new NormalKnownVarianceModel([1.0], [0.0], [25.0])),
            "shifts-normal-gamma" => (new ObservationSeries(1, Shifts(2000, 0.5)), new ConstantHazard(0.01), new NormalGammaModel([0.0], [0.1], [2.0], [1.0])),
            "shifts-normal-gamma-weibull" => (new ObservationSeries(1, Shifts(2000, 2.0)), new WeibullHazard(100, 1.5), new NormalGammaModel([0.0], [0.1], [2.0], [1.0])),
            _ => (new ObservationSeries(1, ScaleShifts(2000)), new ConstantHazard(0.004), new NormalGammaModel([0.0], [1.0], [1.5], [1.0])),
        };
    }
}
