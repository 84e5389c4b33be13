using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Detection;

namespace StreamSeq.Estimation.Tests.Detection;

/// <summary>Small synthetic fixtures for the detector: seeded noise, spikes, level shifts and daily patterns.</summary>
internal static class SyntheticSeries
{
    /// <summary>Five minutes, in seconds (the default time unit).</summary>
    public const double FiveMinutes = 300.0;

    /// <summary>Rows per day at five-minute spacing.</summary>
    public const int RowsPerDay = 288;

    /// <summary>Gaussian white noise around <paramref name="level"/>.</summary>
    public static double[] Noise(int n, int seed, double level = 10.0, double sd = 1.0)
    {
        var rng = new Random(seed);
        var y = new double[n];
        for (var i = 0; i < n; i++)
        {
            y[i] = level + (sd * Gaussian(rng));
        }

        return y;
    }

    /// <summary>A daily sine (amplitude <paramref name="amplitude"/>) at five-minute spacing plus unit noise.</summary>
    public static double[] Daily(int days, int seed, double amplitude = 8.0)
    {
        var y = Noise(days * RowsPerDay, seed);
        for (var i = 0; i < y.Length; i++)
        {
            y[i] += amplitude * Math.Sin(2.0 * Math.PI * i / RowsPerDay);
        }

        return y;
    }

    /// <summary>Standard normal draw (Box-Muller).</summary>
    public static double Gaussian(Random rng)
    {
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Runs a fresh detector over the series with a constant gap; returns the anomaly score of every row.</summary>
    public static double[] Scores(AnomalyDetector detector, ReadOnlySpan<double> y, double gap = FiveMinutes)
    {
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var estimate = new Estimate(detector.Info);
        var scores = new double[y.Length];
        for (var i = 0; i < y.Length; i++)
        {
            detector.Step(state, new Observation(y.Slice(i, 1), i == 0 ? 0.0 : gap), estimate, default);
            scores[i] = detector.AnomalyScore(estimate);
        }

        return scores;
    }

    /// <summary>The largest value of <paramref name="scores"/> over rows [from, to) that are not in <paramref name="excluded"/>.</summary>
    public static double MaxOutside(double[] scores, int from, int to, Func<int, bool> excluded)
    {
        var max = 0.0;
        for (var i = from; i < to; i++)
        {
            if (!excluded(i))
            {
                max = Math.Max(max, scores[i]);
            }
        }

        return max;
    }

    /// <summary>The fraction of rows [from, to) not in <paramref name="excluded"/> with a score at or above <paramref name="threshold"/>.</summary>
    public static double AlarmRate(double[] scores, int from, int to, double threshold, Func<int, bool> excluded)
    {
        int alarms = 0, rows = 0;
        for (var i = from; i < to; i++)
        {
            if (excluded(i))
            {
                continue;
            }

            rows++;
            if (scores[i] >= threshold)
            {
                alarms++;
            }
        }

        return rows == 0 ? 0.0 : (double)alarms / rows;
    }
}
