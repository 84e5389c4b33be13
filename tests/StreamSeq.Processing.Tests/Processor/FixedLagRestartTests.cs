using System.Text.Json;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.Tests.Support;
using static StreamSeq.Processing.Tests.Support.StretchRecords;

namespace StreamSeq.Processing.Tests.Processor;

/// <summary>
/// Fixed-lag smoothing across a re-initialisation, as the CLI and the worker emit it: the steps before the restart that
/// had not had their smoothed record get it at the restart, smoothed on the stretch that ended (the fixed-interval
/// smoother run on that stretch alone), with the lag actually used, before the re-initialised step's own records; the
/// re-initialised step, whose fresh state every later step descends from, and the steps after it are smoothed with lag L
/// as a stream's steps are, the re-initialised one as a stream's first.
/// </summary>
public sealed class FixedLagRestartTests
{
    /// <summary>A continuous-time local level: a gap of 2^60 time units makes the prediction's variance dwarf the
    /// state's by more than double precision resolves, so the stream restarts from its prior at that reading.</summary>
    private const string Kalman = """
        {"name":"level","kind":"linear-gaussian","components":[{"type":"local-level","levelNoise":1}],"observationNoise":[[1]]}
        """;

    /// <summary>The growth model: a reading of 1e300 leaves every particle without weight, and the stream restarts.</summary>
    private const string Particle = """
        {"name":"growth","kind":"particle","seed":3,"particles":200,"intervalSmoothing":"ancestors",
         "model":{"type":"growth","initialMean":0,"initialVariance":5,"transitionNoise":10,"observationNoise":1}}
        """;

    private const double HugeTime = 1152921504606846976.0; // 2^60: times after it step by 256, which doubles resolve.

    [Theory]
    [InlineData("kalman")]
    [InlineData("particle")]
    public void Process_StreamReinitialisedMidway_EveryStepBeforeTheRestartGetsOneSmoothedRecordOfItsStretch(string family)
    {
        var rng = new Random(family == "kalman" ? 11 : 12);
        for (var trial = 0; trial < 12; trial++)
        {
            var lag = 1 + rng.Next(6);
            var restart = 1 + rng.Next(14); // readings before the restart: fewer than, as many as and more than L
            var after = 1 + rng.Next(12);
            var rows = Rows(family, restart, after, rng);
            var context = $"{family} trial {trial}: L={lag}, restart at reading {restart + 1} of {rows.Count}";

            var whole = Process(family, rows, lag, keepHistory: false);
            var filtered = whole.Of(OutputKind.Filtered).ToList();
            Assert.True(Health(filtered[restart]).Contains("reinitialized"), $"{context}: the reading does not re-initialise the stream");
            Assert.DoesNotContain(filtered.Where((_, i) => i != restart), r => Health(r).Contains("reinitialized"));

            // Exactly one fixed-lag smoothed record for each step before the restart, and one with lag L for each step
            // after it that has L later readings; in time order. The re-initialised step starts the stretch every later
            // step descends from (the particle filter's fresh population, the Kalman filter's restart from its prior
            // with the reading assimilated), as the first step of a stream does, and is smoothed as one.
            var smoothed = whole.Of(OutputKind.Smoothed).ToList();
            var times = smoothed.Select(Time).ToList();
            var first = restart;
            var expectedTimes = rows.Take(restart).Select(r => r.Time)
                .Concat(rows.Skip(first).Take(Math.Max(0, rows.Count - first - lag)).Select(r => r.Time)).ToList();
            Assert.True(expectedTimes.SequenceEqual(times), $"{context}: smoothed times {string.Join(",", times)}, expected {string.Join(",", expectedTimes)}");
            Assert.All(smoothed, r => Assert.Equal("fixed-lag", r.GetProperty("method").GetString()));
            for (var i = 0; i < smoothed.Count; i++)
            {
                var expectedLag = i < restart ? Math.Min(lag, restart - 1 - i) : lag;
                Assert.True(expectedLag == smoothed[i].GetProperty("lag").GetInt32(), $"{context}: step {i} has lag {smoothed[i].GetProperty("lag").GetInt32()}, expected {expectedLag}");
            }

            // The flushed records come right before the re-initialised step's filtered record.
            var order = whole.Records.Select(r => r.Kind).ToList();
            var restartFiltered = whole.Records.FindIndex(r => r.Kind == OutputKind.Filtered && Time(JsonDocument.Parse(r.Json).RootElement) == rows[restart].Time);
            var flushed = Math.Min(lag, restart);
            Assert.All(order.Skip(restartFiltered - flushed).Take(flushed), k => Assert.Equal(OutputKind.Smoothed, k));

            // The steps whose smoothed record came at the restart equal the fixed-interval smoother on the first stretch
            // alone: the same readings in a file that ends before the restart (same stream id, so the same draws).
            var head = Process(family, rows.Take(restart).ToList(), lag: 0, keepHistory: true);
            var interval = head.Of(OutputKind.Smoothed).Where(r => r.GetProperty("method").GetString() == "fixed-interval").ToList();
            Assert.Equal(restart, interval.Count);
            for (var s = restart - flushed; s < restart; s++)
            {
                Assert.Equal(Time(interval[s]), Time(smoothed[s]));
                Assert.Equal(interval[s].GetProperty("lag").GetInt32(), smoothed[s].GetProperty("lag").GetInt32());
                AssertClose(interval[s].GetProperty("state"), smoothed[s].GetProperty("state"), $"{context}, step {s}");
            }

            // The Kalman filter's re-initialised step is smoothed as the first reading of the stretch after the restart:
            // its record equals the fixed-interval smoother on the restart's reading and the L after it, in a file that
            // begins at the restart.
            if (family == "kalman" && restart + lag < rows.Count)
            {
                var tail = Process(family, rows.Skip(restart).Take(lag + 1).ToList(), lag: 0, keepHistory: true);
                var stretch = tail.Of(OutputKind.Smoothed).Where(r => r.GetProperty("method").GetString() == "fixed-interval").ToList();
                Assert.Equal(rows[restart].Time, Time(smoothed[restart]));
                Assert.Equal(lag, stretch[0].GetProperty("lag").GetInt32());
                AssertClose(stretch[0].GetProperty("state"), smoothed[restart].GetProperty("state"), $"{context}, the restart's step");
            }
        }
    }

    [Theory]
    [InlineData("kalman")]
    [InlineData("particle")]
    public void EmitFixedInterval_StreamReinitialisedMidway_OneRecordPerReadingOfEachStretch(string family)
    {
        // The stretches before and after the restart are smoothed as series of their own. The re-initialised step is the
        // first of the second stretch (every later step descends from the particle filter's population it drew, or from
        // the Kalman filter's restart from its prior with the reading assimilated), so it gets its record there.
        const int Before = 5;
        var rows = Rows(family, Before, 6, new Random(3));
        var interval = Process(family, rows, lag: 0, keepHistory: true).Of(OutputKind.Smoothed).ToList();
        var first = Before;
        var expected = rows.Take(Before).Select((r, i) => (r.Time, Before - 1 - i))
            .Concat(rows.Skip(first).Select((r, i) => (r.Time, rows.Count - first - 1 - i))).ToList();
        Assert.Equal(expected, interval.Select(r => (Time(r), r.GetProperty("lag").GetInt32())).ToList());
        Assert.All(interval, r => Assert.Equal("fixed-interval", r.GetProperty("method").GetString()));

        // The second stretch is smoothed as a file that begins at the restart's reading (same stream, same draws).
        if (family == "kalman")
        {
            var tail = Process(family, rows.Skip(Before).ToList(), lag: 0, keepHistory: true).Of(OutputKind.Smoothed).ToList();
            Assert.Equal(rows.Count - Before, tail.Count);
            for (var i = 0; i < tail.Count; i++)
            {
                AssertClose(tail[i].GetProperty("state"), interval[Before + i].GetProperty("state"), $"step {Before + i}");
            }
        }
    }

    [Fact]
    public void Process_RestartWithWholeWindowPending_MatchesTheSmootherOfTheStretchAtEveryLag()
    {
        // The records of the steps before the last L are the ones a lag-L smoother gives on the readings up to L later:
        // unchanged by the restart that follows.
        const int Lag = 3;
        var rows = Rows("kalman", 10, 6, new Random(5));
        var whole = Process("kalman", rows, Lag, keepHistory: false).Of(OutputKind.Smoothed).ToList();
        var before = Process("kalman", rows.Take(10).ToList(), Lag, keepHistory: false).Of(OutputKind.Smoothed).ToList();
        Assert.Equal(7, before.Count);
        for (var s = 0; s < before.Count; s++)
        {
            Assert.Equal(before[s].GetRawText(), whole[s].GetRawText());
        }
    }

    private static List<(double Time, double Value, double? Control)> Rows(string family, int restart, int after, Random rng)
    {
        var rows = new List<(double, double, double?)>();
        for (var i = 0; i < restart; i++)
        {
            rows.Add((i + 1, 5 * Math.Sin(i + rng.NextDouble()), null));
        }

        for (var i = 0; i <= after; i++)
        {
            var value = 5 * Math.Sin(i + rng.NextDouble());
            rows.Add(family == "kalman"
                ? (HugeTime + (256.0 * i), value, null)
                : (restart + 1 + i, i == 0 ? 1e300 : value, null));
        }

        return rows;
    }

    private static ListSink Process(string family, List<(double Time, double Value, double? Control)> rows, int lag, bool keepHistory)
    {
        return StretchRecords.Process(TestModels.Binding(family == "kalman" ? Kalman : Particle, lag: lag), rows, keepHistory);
    }

    private static void AssertClose(JsonElement expected, JsonElement actual, string context) =>
        StretchRecords.AssertClose(expected, actual, context, "the stretch's fixed-interval smoother");
}
