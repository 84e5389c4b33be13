using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Detection;
using Xunit.Abstractions;

namespace StreamSeq.Estimation.Tests.Detection;

/// <summary>
/// The detector's scores on synthetic series with injected anomalies: they rise at the anomalies and stay low
/// elsewhere once the detector has learned (after a learning period like NAB's probation).
/// </summary>
public sealed class AnomalyDetectorScoreTests(ITestOutputHelper output)
{
    /// <summary>A score at or above this counts as an alarm (near the thresholds NAB's optimiser picks for this detector).</summary>
    private const double Alarm = 0.6;

    private const int Learning = 500;

    [Fact]
    public void Step_SpikesInNoise_EverySpikeAlarmsAndOrdinaryRowsRarely()
    {
        var y = SyntheticSeries.Noise(4000, seed: 11);
        int[] spikes = [900, 1700, 2300, 3100, 3800];
        foreach (var (row, k) in spikes.Select((r, k) => (r, k)))
        {
            y[row] += (k % 2 == 0 ? 1 : -1) * 9.0;
        }

        var scores = SyntheticSeries.Scores(new AnomalyDetector(), y);

        var spikeScores = spikes.Select(r => scores[r]).ToArray();
        var ordinaryMax = SyntheticSeries.MaxOutside(scores, Learning, y.Length, spikes.Contains);
        var ordinaryRate = SyntheticSeries.AlarmRate(scores, Learning, y.Length, Alarm, spikes.Contains);
        output.WriteLine($"spike scores {string.Join(", ", spikeScores.Select(s => s.ToString("F3")))}; ordinary max {ordinaryMax:F3}, alarm rate {ordinaryRate:P2}");
        Assert.All(spikeScores, s => Assert.True(s >= Alarm, $"a spike scored {s}"));
        Assert.Equal(spikeScores.Max(), scores.Max());
        Assert.True(ordinaryRate <= 0.005, $"alarm rate {ordinaryRate:P2} on ordinary rows");
    }

    [Fact]
    public void Step_LevelShift_AlarmsAtTheShiftThenSettles()
    {
        var y = SyntheticSeries.Noise(3000, seed: 5);
        const int Shift = 1500;
        for (var i = Shift; i < y.Length; i++)
        {
            y[i] += 8.0;
        }

        var scores = SyntheticSeries.Scores(new AnomalyDetector(), y);

        var atShift = scores.Skip(Shift).Take(5).Max();
        var alarmsAfter = scores.Skip(Shift + 5).Count(s => s >= Alarm);
        var before = SyntheticSeries.AlarmRate(scores, Learning, Shift, Alarm, _ => false);
        output.WriteLine($"max score at the shift {atShift:F3}; alarms in the {y.Length - Shift - 5} rows after it {alarmsAfter}; alarm rate before {before:P2}");
        Assert.True(atShift >= Alarm, $"the shift scored only {atShift}");
        Assert.True(alarmsAfter <= 3, $"{alarmsAfter} alarms after the shift: the detector did not adapt to the new level");
        Assert.True(before <= 0.005, $"alarm rate {before:P2} before the shift");
    }

    [Fact]
    public void Step_DailyPatternWithFlattenedAfternoon_AlarmsInTheFlatSpan()
    {
        var y = SyntheticSeries.Daily(days: 12, seed: 3);
        var start = (9 * SyntheticSeries.RowsPerDay) + 60;
        const int Span = 48;
        for (var i = start; i < start + Span; i++)
        {
            y[i] = 10.0 + SyntheticSeries.Gaussian(new Random(i));
        }

        var detector = new AnomalyDetector();
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var estimate = new Estimate(detector.Info);
        var weightsOffset = detector.Info.ExtraOffset("expertWeights");
        var scores = new double[y.Length];
        var dailyWeight = 0.0;
        for (var i = 0; i < y.Length; i++)
        {
            detector.Step(state, new Observation(y.AsSpan(i, 1), i == 0 ? 0.0 : SyntheticSeries.FiveMinutes), estimate, default);
            scores[i] = detector.AnomalyScore(estimate);
            if (i == start - 1)
            {
                dailyWeight = estimate.Extras[weightsOffset + 1];
            }
        }

        var inSpan = scores.Skip(start).Take(Span).Max();
        var rate = SyntheticSeries.AlarmRate(scores, 3 * SyntheticSeries.RowsPerDay, y.Length, Alarm, i => i >= start && i < start + (2 * Span));
        output.WriteLine($"daily expert weight before the anomaly {dailyWeight:F3}; max score in the flat span {inSpan:F3}; alarm rate elsewhere after day 3 {rate:P2}");
        Assert.True(dailyWeight > 0.1, $"the daily profile carries only {dailyWeight} of the weight on a daily pattern");
        Assert.True(inSpan >= Alarm, $"the flattened span scored only {inSpan}");
        Assert.True(rate <= 0.005, $"alarm rate {rate:P2} on the regular days");
    }

    [Fact]
    public void Step_DailyPatternWithoutAnomalies_RarelyAlarmsAfterLearning()
    {
        var y = SyntheticSeries.Daily(days: 14, seed: 8);

        var scores = SyntheticSeries.Scores(new AnomalyDetector(), y);

        var rate = SyntheticSeries.AlarmRate(scores, 3 * SyntheticSeries.RowsPerDay, y.Length, Alarm, _ => false);
        output.WriteLine($"alarm rate after day 3: {rate:P3} over {y.Length - (3 * SyntheticSeries.RowsPerDay)} rows");
        Assert.True(rate <= 0.002, $"alarm rate {rate:P2} on a clean daily pattern");
    }
}
