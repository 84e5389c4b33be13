using System.Text.Json;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.Tests.Support;
using static StreamSeq.Processing.Tests.Support.StretchRecords;

namespace StreamSeq.Processing.Tests.Processor;

/// <summary>
/// A stream re-initialised midway, for every family that restarts from its prior with the restart's reading assimilated
/// as a first step: the re-initialised step gets its smoothed record, fixed-lag (<c>--lag</c>) and fixed-interval
/// (<c>--smooth</c>), as the first reading of the readings from the restart on; each step has exactly one record of
/// each method; the steps before the restart get what a file ending before the restart gives them, and the restarted
/// step and those after it what a file beginning at the restart gives them.
/// </summary>
public sealed class RestartSmoothedRecordsTests
{
    private const double HugeTime = 1152921504606846976.0; // 2^60: times after it step by 256, which doubles resolve.

    /// <summary>Two local-level modes: a gap of 2^60 loses a mode's state to rounding, and the stream restarts.</summary>
    private const string Imm = """
        {"name":"imm","kind":"imm","modeTransition":[[0.9,0.1],[0.2,0.8]],"modes":[
          {"components":[{"type":"local-level","levelNoise":1}],"observationNoise":[[1]],"initialMean":[0],"initialCovariance":[[100]]},
          {"components":[{"type":"local-level","levelNoise":4}],"observationNoise":[[2]],"initialMean":[0],"initialCovariance":[[100]]}]}
        """;

    /// <summary>A control of 1e308 makes the predicted mean infinite: the state is not finite after the update.</summary>
    private const string KalmanControl = """
        {"name":"kc","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[0.5]],"observation":[[1]],"observationNoise":[[2]],
         "control":[[10]],"initialMean":[1],"initialCovariance":[[4]]}
        """;

    private const string ExtendedControl = """
        {"name":"ec","kind":"extended-kalman","model":{"type":"linear","transition":[[1]],"transitionNoise":[[0.5]],"observation":[[1]],
         "observationNoise":[[2]],"control":[[10]],"initialMean":[1],"initialCovariance":[[4]]}}
        """;

    private const string UnscentedControl = """
        {"name":"uc","kind":"unscented-kalman","model":{"type":"linear","transition":[[1]],"transitionNoise":[[0.5]],"observation":[[1]],
         "observationNoise":[[2]],"control":[[10]],"initialMean":[1],"initialCovariance":[[4]]}}
        """;

    /// <summary>Learns its observation noise; a gap of 2^60 restarts the stream, which keeps what it learned, so the
    /// steps after the restart are not those of a fresh stream: only the count and the steps before are compared.</summary>
    private const string Adaptive = """
        {"name":"ad","kind":"linear-gaussian","components":[{"type":"local-level","levelNoise":1}],"observationNoise":[[1]],"adapt":["observationNoise"]}
        """;

    [Theory]
    [InlineData("imm", 1, 3, 4)]
    [InlineData("imm", 3, 5, 6)]
    [InlineData("kalman-control", 1, 2, 3)]
    [InlineData("kalman-control", 3, 6, 5)]
    [InlineData("extended-control", 2, 4, 5)]
    [InlineData("unscented-control", 2, 4, 5)]
    [InlineData("adaptive", 2, 4, 5)]
    public void Process_StreamReinitialisedMidway_TheRestartedStepGetsItsFixedLagRecord(string family, int lag, int restart, int after)
    {
        var rows = Rows(family, restart, after, new Random(restart + (10 * lag)));
        var whole = Process(family, rows, lag, keepHistory: false);
        var filtered = whole.Of(OutputKind.Filtered).ToList();
        Assert.True(Health(filtered[restart]).Contains("reinitialized"), $"{family}: the reading does not re-initialise the stream");
        Assert.DoesNotContain(filtered.Where((_, i) => i != restart), r => Health(r).Contains("reinitialized"));

        // One record for each step before the restart, and one for each step from the restart on that has L later readings.
        var smoothed = whole.Of(OutputKind.Smoothed).ToList();
        var expectedTimes = rows.Take(restart).Concat(rows.Skip(restart).Take(rows.Count - restart - lag)).Select(r => r.Time).ToList();
        Assert.Equal(expectedTimes, smoothed.Select(Time).ToList());

        // Before the restart: as a file that ends there (its lag-L records; the rest were flushed at the restart).
        var head = Process(family, rows.Take(restart).ToList(), lag, keepHistory: false).Of(OutputKind.Smoothed).ToList();
        for (var s = 0; s < head.Count; s++)
        {
            Assert.Equal(head[s].GetRawText(), smoothed[s].GetRawText());
        }

        // From the restart on: as a file that begins at the restart.
        if (family != "adaptive")
        {
            var tail = Process(family, rows.Skip(restart).ToList(), lag, keepHistory: false).Of(OutputKind.Smoothed).ToList();
            Assert.Equal(smoothed.Count - restart, tail.Count);
            for (var i = 0; i < tail.Count; i++)
            {
                Assert.Equal(Time(tail[i]), Time(smoothed[restart + i]));
                Assert.Equal(tail[i].GetProperty("lag").GetInt32(), smoothed[restart + i].GetProperty("lag").GetInt32());
                AssertClose(tail[i].GetProperty("state"), smoothed[restart + i].GetProperty("state"), $"{family}: step {restart + i}");
            }
        }
    }

    [Theory]
    [InlineData("imm", 4, 5)]
    [InlineData("kalman-control", 3, 4)]
    [InlineData("extended-control", 4, 3)]
    [InlineData("unscented-control", 4, 3)]
    [InlineData("adaptive", 4, 5)]
    public void EmitFixedInterval_StreamReinitialisedMidway_EveryStepHasOneRecordOfItsStretch(string family, int restart, int after)
    {
        var rows = Rows(family, restart, after, new Random(restart + after));
        var interval = Process(family, rows, lag: 0, keepHistory: true).Of(OutputKind.Smoothed).ToList();
        var expected = rows.Take(restart).Select((r, i) => (r.Time, restart - 1 - i))
            .Concat(rows.Skip(restart).Select((r, i) => (r.Time, rows.Count - restart - 1 - i))).ToList();
        Assert.Equal(expected, interval.Select(r => (Time(r), r.GetProperty("lag").GetInt32())).ToList());

        var head = Process(family, rows.Take(restart).ToList(), lag: 0, keepHistory: true).Of(OutputKind.Smoothed).ToList();
        for (var i = 0; i < restart; i++)
        {
            Assert.Equal(head[i].GetRawText(), interval[i].GetRawText());
        }

        if (family != "adaptive")
        {
            var tail = Process(family, rows.Skip(restart).ToList(), lag: 0, keepHistory: true).Of(OutputKind.Smoothed).ToList();
            Assert.Equal(rows.Count - restart, tail.Count);
            for (var i = 0; i < tail.Count; i++)
            {
                AssertClose(tail[i].GetProperty("state"), interval[restart + i].GetProperty("state"), $"{family}: step {restart + i}");
            }
        }
    }

    private static List<(double Time, double Value, double? Control)> Rows(string family, int restart, int after, Random rng)
    {
        var control = family.EndsWith("-control", StringComparison.Ordinal);
        var rows = new List<(double, double, double?)>();
        for (var i = 0; i < restart + 1 + after; i++)
        {
            var value = 3 + (5 * Math.Sin(i + rng.NextDouble()));
            var time = control ? i + 1 : i < restart ? i + 1 : HugeTime + (256.0 * (i - restart));
            rows.Add((time, value, control ? (i == restart ? 1e308 : 0.1 * rng.NextDouble()) : null));
        }

        return rows;
    }

    private static ListSink Process(string family, List<(double Time, double Value, double? Control)> rows, int lag, bool keepHistory)
    {
        var spec = family switch
        {
            "imm" => Imm,
            "kalman-control" => KalmanControl,
            "extended-control" => ExtendedControl,
            "unscented-control" => UnscentedControl,
            "adaptive" => Adaptive,
            _ => throw new ArgumentOutOfRangeException(nameof(family)),
        };
        return StretchRecords.Process(TestModels.Binding(spec, lag: lag), rows, keepHistory);
    }

    private static void AssertClose(JsonElement expected, JsonElement actual, string context) =>
        StretchRecords.AssertClose(expected, actual, context, "the stretch run alone");
}
