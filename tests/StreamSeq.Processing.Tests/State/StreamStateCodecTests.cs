using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;

namespace StreamSeq.Processing.Tests.State;

public sealed class StreamStateCodecTests
{
    [Fact]
    public void ToBytes_StateWithPendingAndGate_RoundTripsEveryField()
    {
        var binding = TestModels.Binding(TestModels.Trend, lag: 2);
        using var p = new StreamProcessor(TestModels.Router(binding), new ProcessorOptions { AllowedLateness = TimeSpan.FromSeconds(5) });
        var store = new StateStore();
        var sink = new ListSink();
        for (var t = 0; t < 12; t++)
        {
            p.ProcessEncoded(System.Text.Encoding.UTF8.GetBytes($"{{\"time\":{t * 1000},\"values\":[{(t == 8 ? 50 : t)}]}}"), "s", double.NaN, default, new SourcePosition("in", 3, t), store, sink);
        }

        var state = store.Streams.Single();
        Assert.NotNull(state.Pending);
        var bytes = StreamStateCodec.ToBytes(state);
        var back = StreamStateCodec.Read("s", bytes, TestModels.Router(binding), out var reason);
        Assert.Null(reason);
        Assert.NotNull(back);
        Assert.Equal(state.Buffer, back.Buffer);
        Assert.Equal(state.LastTime, back.LastTime);
        Assert.Equal(state.LastModelTime, back.LastModelTime);
        Assert.Equal(state.MaxSeenModelTime, back.MaxSeenModelTime);
        Assert.Equal(state.Steps, back.Steps);
        Assert.Equal(state.Gate, back.Gate);
        Assert.Equal(state.Seed, back.Seed);
        Assert.Equal(state.Pending!.Count, back.Pending!.Count);
        for (var i = 0; i < state.Pending.Count; i++)
        {
            Assert.Equal(state.Pending[i].Time, back.Pending[i].Time);
            Assert.Equal(state.Pending[i].Values, back.Pending[i].Values);
            Assert.Equal(state.Pending[i].Source, back.Pending[i].Source);
        }

        Assert.Equal(bytes, StreamStateCodec.ToBytes(back));
    }

    [Theory]
    [InlineData("last time", "holds a last time 1E+300")]
    [InlineData("model time", "holds a last time")]
    [InlineData("newest time", "infinite newest time")]
    [InlineData("waiting time", "holds a waiting observation (number 1, time 1E+300")]
    [InlineData("waiting values", "holds a waiting observation (number 1, time")]
    public void Read_ClockOrWaitingObservationNoRecordCanHave_ThrowsFormatExceptionSayingSo(string damage, string expected)
    {
        var binding = TestModels.Binding(TestModels.Trend, lag: 2);
        using var p = new StreamProcessor(TestModels.Router(binding), new ProcessorOptions { AllowedLateness = TimeSpan.FromSeconds(5) });
        var store = new StateStore();
        for (var t = 0; t < 12; t++)
        {
            p.ProcessEncoded(System.Text.Encoding.UTF8.GetBytes($"{{\"time\":{t * 1000},\"values\":[{t}]}}"), "s", double.NaN, default, new SourcePosition("in", 3, t), store, new ListSink());
        }

        var state = store.Streams.Single();
        var waiting = state.Pending![0];
        switch (damage)
        {
            case "last time":
                state.LastTime = state.LastTime with { Value = 1e300 };
                break;
            case "model time":
                state.LastModelTime += 0.5;
                break;
            case "newest time":
                state.MaxSeenModelTime = double.PositiveInfinity;
                break;
            case "waiting time":
                state.Pending[0] = waiting with { Time = waiting.Time with { Value = 1e300 } };
                break;
            default:
                state.Pending[0] = waiting with { Values = [1.0, 2.0] };
                break;
        }

        var e = Assert.Throws<FormatException>(() => StreamStateCodec.Read("s", StreamStateCodec.ToBytes(state), TestModels.Router(binding), out _));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    /// <summary>A trend stream whose readings jump twice, so its gate has alerted and suppressed.</summary>
    private static (StreamState State, ModelBinding Binding) AlertedStream()
    {
        var binding = TestModels.Binding(TestModels.Trend);
        using var p = new StreamProcessor(TestModels.Router(binding));
        var store = new StateStore();
        for (var t = 0; t < 40; t++)
        {
            var value = t is >= 15 and < 18 ? 500.0 + t : t is >= 30 and < 32 ? -900.0 : t;
            p.ProcessEncoded(System.Text.Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{{\"time\":{t * 1000},\"values\":[{value}]}}")), "s", double.NaN, default, new SourcePosition("in", 0, t), store, new ListSink());
        }

        return (store.Streams.Single(), binding);
    }

    [Fact]
    public void Read_GateOfAStreamThatAlerted_RoundTrips()
    {
        var (state, binding) = AlertedStream();
        Assert.True(state.Gate.TotalAlerts > 0 && state.Gate.Suppressed > 0, $"{state.Gate.TotalAlerts} alerts, {state.Gate.Suppressed} suppressed");

        var read = StreamStateCodec.Read("s", StreamStateCodec.ToBytes(state), TestModels.Router(binding), out var reason);

        Assert.Null(reason);
        Assert.Equal(state.Gate, read!.Gate);
    }

    [Theory]
    [InlineData("last alert at +inf")]
    [InlineData("last alert after the last time")]
    [InlineData("window start at +inf")]
    [InlineData("window start after the last time")]
    [InlineData("negative window count")]
    [InlineData("window count beyond the steps")]
    [InlineData("negative alerts")]
    [InlineData("alerts beyond the steps")]
    [InlineData("negative suppressed")]
    public void Read_AlertGateNoStepCouldLeave_ThrowsFormatExceptionSayingSo(string damage)
    {
        // A last alert at +inf (or a rate window that never ends) held back every later alert of the stream for good,
        // without a word: the gate compares each new time with these.
        var (state, binding) = AlertedStream();
        switch (damage)
        {
            case "last alert at +inf":
                state.Gate.LastAlertTime = double.PositiveInfinity;
                break;
            case "last alert after the last time":
                state.Gate.LastAlertTime = state.LastModelTime + 1e6;
                break;
            case "window start at +inf":
                state.Gate.WindowStart = double.PositiveInfinity;
                break;
            case "window start after the last time":
                state.Gate.WindowStart = state.LastModelTime + 1;
                break;
            case "negative window count":
                state.Gate.WindowCount = -5;
                break;
            case "window count beyond the steps":
                state.Gate.WindowCount = int.MaxValue;
                break;
            case "negative alerts":
                state.Gate.TotalAlerts = -1;
                break;
            case "alerts beyond the steps":
                state.Gate.TotalAlerts = state.Steps + 1;
                break;
            default:
                state.Gate.Suppressed = long.MinValue;
                break;
        }

        var e = Assert.Throws<FormatException>(() => StreamStateCodec.Read("s", StreamStateCodec.ToBytes(state), TestModels.Router(binding), out _));
        Assert.Contains("holds an alert gate no step could leave", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TruncatedOrForeignBytes_ThrowsFormatException()
    {
        var binding = TestModels.Binding(TestModels.LocalLevel);
        var state = new StreamState("s", binding, 1);
        var bytes = StreamStateCodec.ToBytes(state);
        Assert.Throws<FormatException>(() => StreamStateCodec.Read("s", bytes.AsSpan(0, bytes.Length - 3), TestModels.Router(binding), out _));
        Assert.Throws<FormatException>(() => StreamStateCodec.Read("s", "hello"u8, TestModels.Router(binding), out _));
    }

    [Fact]
    public void Read_StringLengthOfIntMaxValue_ThrowsFormatException()
    {
        // The model name's length comes first after the magic and the version; position + length overflowed.
        var binding = TestModels.Binding(TestModels.LocalLevel);
        var bytes = StreamStateCodec.ToBytes(new StreamState("s", binding, 1));
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(3), int.MaxValue);
        Assert.Throws<FormatException>(() => StreamStateCodec.Read("s", bytes, TestModels.Router(binding), out _));
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(10_000_000)]
    public void Read_PendingCountFarBeyondTheBytes_ThrowsFormatExceptionWithoutAllocatingForIt(int count)
    {
        var binding = TestModels.Binding(TestModels.LocalLevel);
        var bytes = StreamStateCodec.ToBytes(new StreamState("s", binding, 1));

        // magic, version, model name, fingerprint, seed, last time, two model times, steps, the alert gate: then the count.
        var at = 3 + 4 + System.Text.Encoding.UTF8.GetByteCount(binding.Name) + 8 + 8 + 9 + 8 + 8 + 8 + 1 + 8 + 8 + 4 + 8 + 8;
        Assert.Equal(0, System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at)));
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), count);
        var router = TestModels.Router(binding);

        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<FormatException>(() => StreamStateCodec.Read("s", bytes, router, out _));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the count was allocated for");
    }
}
