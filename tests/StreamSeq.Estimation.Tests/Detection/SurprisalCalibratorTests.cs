using StreamSeq.Estimation.Detection;

namespace StreamSeq.Estimation.Tests.Detection;

/// <summary>The surprisal calibrator's tails against direct computations over the list of values it was given.</summary>
public sealed class SurprisalCalibratorTests
{
    private const double Minimum = -10.0;
    private const double Resolution = 0.1;
    private const int Bins = 500;

    [Theory]
    [InlineData(0.02, 1.5)]
    [InlineData(0.05, 3.0)]
    [InlineData(0.05, 4.2)]
    [InlineData(0.1, 12.0)]
    [InlineData(0.05, 0.3)]
    public void LogExceedanceTail_ExponentialSurprisals_IsTheEmpiricalTailToTheQuantileThenTheMeanExcessExponential(double fraction, double s)
    {
        var random = new Random(7);
        var values = Enumerable.Range(0, 3000).Select(_ => -Math.Log(1.0 - random.NextDouble())).ToList();
        var state = Filled(values);

        var actual = SurprisalCalibrator.LogExceedanceTail(state, Bins, Minimum, Resolution, fraction, 0.5, s);

        Assert.Equal(Direct(values, fraction, s), actual, 1e-9);
    }

    [Fact]
    public void LogExceedanceTail_BelowTheQuantile_EqualsTheEmpiricalTail()
    {
        var state = Filled([.. Enumerable.Range(0, 1000).Select(i => i / 100.0)]);

        var exceedance = SurprisalCalibrator.LogExceedanceTail(state, Bins, Minimum, Resolution, 0.05, 0.5, 2.0);
        var empirical = SurprisalCalibrator.LogTail(state, Bins, Minimum, Resolution, 0.05, 0.5, 2.0);

        Assert.Equal(empirical, exceedance);
        Assert.Equal(Math.Log(0.8), exceedance, 1e-9);
    }

    /// <summary>A calibrator with both trees, given <paramref name="values"/>.</summary>
    private static double[] Filled(List<double> values)
    {
        var state = new double[DetectorLayout.CalibrationHeaderLength + (2 * Bins)];
        SurprisalCalibrator.Initialize(state, Bins, trees: 2);
        foreach (var v in values)
        {
            SurprisalCalibrator.Add(state, Bins, Minimum, Resolution, v, trees: 2);
        }

        return state;
    }

    /// <summary>The exceedance tail computed from the binned values by plain loops.</summary>
    private static double Direct(List<double> values, double fraction, double s)
    {
        var bins = values.Select(v => Math.Clamp((int)((v - Minimum) / Resolution), 0, Bins - 1)).ToList();
        var n = (double)values.Count;
        var need = Math.Max(fraction * n, 1.0);
        var top = Enumerable.Range(0, Bins).Last(b => bins.Count(x => x >= b) >= need);
        var tail = bins.Where(x => x >= top).ToList();
        var x = (s - Minimum) / Resolution;
        if (x <= top)
        {
            // The empirical tail, with counts spread uniformly inside a bin.
            var bin = (int)x;
            var above = bins.Count(v => v > bin) + (bins.Count(v => v == bin) * (1.0 - (x - bin)));
            return Math.Log(Math.Max(above / n, 0.5 / n));
        }

        var scale = Math.Max(tail.Average(b => b + 0.5 - top) * Resolution, 0.5);
        return Math.Log(tail.Count / n) - ((x - top) * Resolution / scale);
    }
}
