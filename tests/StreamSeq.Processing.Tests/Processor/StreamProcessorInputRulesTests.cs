using System.Text;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;

namespace StreamSeq.Processing.Tests.Processor;

/// <summary>The processor's input rules: times out of range, far-future times, conflicting duplicates.</summary>
public sealed class StreamProcessorInputRulesTests
{
    private const string Sensor = """
        {"name":"temp","kind":"linear-gaussian","timeUnit":"PT1M",
         "components":[{"type":"local-level","levelNoise":0.01}],"observationNoise":[[0.25]],"initialMean":[20],"initialCovariance":[[100]]}
        """;

    private static void Send(StreamProcessor p, StateStore store, IRecordSink sink, string json, double kafkaTimestamp = double.NaN, long offset = 0) =>
        p.ProcessEncoded(Encoding.UTF8.GetBytes(json), "room-1", kafkaTimestamp, default, new SourcePosition("readings", 0, offset), store, sink);

    [Fact]
    public void ProcessEncoded_Year9999WithForecasts_IsDeadLetteredAndTheStreamGoesOn()
    {
        using var p = new StreamProcessor(TestModels.Router(TestModels.Binding(Sensor, horizon: 3)));
        var store = new StateStore();
        var sink = new ListSink();

        Send(p, store, sink, """{"time":"2026-01-01T00:00:00Z","values":[21]}""");
        Send(p, store, sink, """{"time":"9999-12-31T23:59:59Z","values":[21]}""");
        Send(p, store, sink, """{"time":"2026-01-01T00:01:00Z","values":[21.1]}""");

        var letter = Assert.Single(sink.DeadLetters);
        Assert.Equal(DeadLetterReason.TimeOutOfRange, letter.Reason);
        Assert.Equal(2, sink.Of(OutputKind.Filtered).Count());
        Assert.Equal(6, sink.Of(OutputKind.Forecast).Count());
    }

    [Theory]
    [InlineData("""{"time":1e300,"values":[21]}""")]
    [InlineData("""{"time":-1e300,"values":[21]}""")]
    [InlineData("""{"time":"0001-01-01T00:00:00Z","values":[21]}""")]
    public void ProcessEncoded_TimesAtOrBeyondTheEdges_NeverThrow(string json)
    {
        using var p = new StreamProcessor(TestModels.Router(TestModels.Binding(Sensor, lag: 2, horizon: 3)));
        var store = new StateStore();
        var sink = new ListSink();

        Send(p, store, sink, json);
        Send(p, store, sink, """{"time":"2026-01-01T00:01:00Z","values":[21.1]}""");

        Assert.Equal(2, sink.Of(OutputKind.Filtered).Count() + sink.DeadLetters.Count);
        Assert.All(sink.DeadLetters, d => Assert.Equal(DeadLetterReason.TimeOutOfRange, d.Reason));
        Assert.Equal("2026-01-01T00:01:00Z", sink.Of(OutputKind.Filtered).Last().GetProperty("time").GetString());
    }

    [Fact]
    public void ProcessEncoded_FarFutureReadingAheadOfItsKafkaTimestamp_IsDeadLetteredAndLaterReadingsAreProcessed()
    {
        var options = new ProcessorOptions { MaxTimeSkew = TimeSpan.FromHours(1) };
        using var p = new StreamProcessor(TestModels.Router(TestModels.Binding(Sensor)), options);
        var store = new StateStore();
        var sink = new ListSink();
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

        Send(p, store, sink, $$"""{"time":{{now}},"values":[21]}""", now);
        Send(p, store, sink, """{"time":253402300799000,"values":[21]}""", now + 1000);
        Send(p, store, sink, $$"""{"time":{{now + 60_000}},"values":[21.2]}""", now + 60_000);
        Send(p, store, sink, $$"""{"time":{{now + 1_800_000}},"values":[21.3]}""", now + 60_000);

        var letter = Assert.Single(sink.DeadLetters);
        Assert.Equal(DeadLetterReason.TooFarAhead, letter.Reason);
        Assert.Equal("too-far-ahead", DeadLetterReasons.Name(letter.Reason));
        Assert.Equal(3, sink.Of(OutputKind.Filtered).Count());
    }

    [Fact]
    public void Process_FileWithoutTimestamps_BoundIsTheStreamsNewestTime()
    {
        var options = new ProcessorOptions { MaxTimeSkew = TimeSpan.FromMinutes(100) };
        using var p = new StreamProcessor(TestModels.Router(TestModels.Binding(Sensor)), options, numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var sink = new ListSink();

        foreach (var (t, v) in new[] { (1.0, 21.0), (1e12, 21.0), (2.0, 21.1), (90.0, 21.2), (500.0, 21.3) })
        {
            p.Process(new InputRecord("s", new RecordTime(t, TimeFormat.ModelUnits), [v], SourcePosition.FileLine("f.csv", (long)t)), store, sink);
        }

        Assert.Equal([1_000_000_000_000L, 500L], sink.DeadLetters.Select(d => d.Source.Offset));
        Assert.All(sink.DeadLetters, d => Assert.Equal(DeadLetterReason.TooFarAhead, d.Reason));
        Assert.Equal(3, sink.Of(OutputKind.Filtered).Count());
    }

    [Fact]
    public void ProcessEncoded_SameTimeDifferentValue_IsAConflictAndAnExactRepeatIsADuplicate()
    {
        using var p = new StreamProcessor(TestModels.Router(TestModels.Binding(Sensor)));
        var store = new StateStore();
        var sink = new ListSink();

        Send(p, store, sink, """{"time":"2026-01-01T00:00:00Z","values":[21]}""", offset: 1);
        Send(p, store, sink, """{"time":"2026-01-01T00:00:00Z","values":[21]}""", offset: 2);
        Send(p, store, sink, """{"time":"2026-01-01T00:00:00Z","values":[25]}""", offset: 3);

        Assert.Equal(1, p.Duplicates);
        var letter = Assert.Single(sink.DeadLetters);
        Assert.Equal(DeadLetterReason.ConflictingDuplicate, letter.Reason);
        Assert.Equal("conflicting-duplicate", DeadLetterReasons.Name(letter.Reason));
        Assert.Equal(3, letter.Source.Offset);
        Assert.Single(sink.Of(OutputKind.Filtered));
    }

    [Fact]
    public void ProcessEncoded_ConflictWhileWaitingForTheWatermark_IsDeadLettered()
    {
        using var p = new StreamProcessor(TestModels.Router(TestModels.Binding(Sensor)), new ProcessorOptions { AllowedLateness = TimeSpan.FromMinutes(5) });
        var store = new StateStore();
        var sink = new ListSink();

        Send(p, store, sink, """{"time":"2026-01-01T00:00:00Z","values":[21]}""");
        Send(p, store, sink, """{"time":"2026-01-01T00:00:00Z","values":[21]}""");
        Send(p, store, sink, """{"time":"2026-01-01T00:00:00Z","values":[null]}""");

        Assert.Equal(1, p.Duplicates);
        Assert.Equal(DeadLetterReason.ConflictingDuplicate, Assert.Single(sink.DeadLetters).Reason);
    }

    [Fact]
    public void Restore_StateWrittenMidStream_StillTellsConflictsFromDuplicates()
    {
        var binding = TestModels.Binding(Sensor);
        var router = TestModels.Router(binding);
        using var p = new StreamProcessor(router);
        var store = new StateStore();
        var sink = new ListSink();
        Send(p, store, sink, """{"time":"2026-01-01T00:00:00Z","values":[21]}""");
        Assert.True(store.TryGetLive("room-1", out var state));
        var bytes = StreamStateCodec.ToBytes(state!);

        using var restored = new StreamProcessor(router);
        var fresh = new StateStore();
        Assert.True(restored.Restore(fresh, "room-1", bytes, out _));
        Send(restored, fresh, sink, """{"time":"2026-01-01T00:00:00Z","values":[21]}""");
        Send(restored, fresh, sink, """{"time":"2026-01-01T00:00:00Z","values":[22]}""");

        Assert.Equal(1, restored.Duplicates);
        Assert.Equal(DeadLetterReason.ConflictingDuplicate, Assert.Single(sink.DeadLetters).Reason);
    }

    [Theory]
    [InlineData("""{"time":1,"values":[1e999]}""")]
    [InlineData("""{"time":1,"values":["Infinity"]}""")]
    [InlineData("""{"time":1,"values":["-Infinity"]}""")]
    [InlineData("""{"time":1,"values":["abc"]}""")]
    [InlineData("""{"time":1,"values":["\ud800"]}""")]
    [InlineData("""{"time":"\udfff","values":[1]}""")]
    [InlineData("""{"time":1,"values":[1],"stream":"\ud800"}""")]
    public void ProcessEncoded_NonFiniteReading_IsUnparseableNotMissing(string json)
    {
        using var p = new StreamProcessor(TestModels.Router(TestModels.Binding(Sensor)));
        var store = new StateStore();
        var sink = new ListSink();

        Send(p, store, sink, json);

        Assert.Equal(DeadLetterReason.Unparseable, Assert.Single(sink.DeadLetters).Reason);
        Assert.Empty(sink.Records);
    }
}
