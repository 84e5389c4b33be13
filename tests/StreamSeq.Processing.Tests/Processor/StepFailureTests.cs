using System.Globalization;
using System.Text;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;

namespace StreamSeq.Processing.Tests.Processor;

/// <summary>
/// A model that throws while stepping a stream (a restored state whose bytes read back but whose contents are damaged,
/// or a record the model cannot take) costs that stream its state, never the processor or the other streams.
/// </summary>
public sealed class StepFailureTests
{
    [Fact]
    public void Process_RestoredStateWhoseWindowPositionIsOutsideItsWindow_OnlyThatStreamStartsAgainFromItsPrior()
    {
        var binding = TestModels.Binding(TestModels.LocalLevel, lag: 2, horizon: 1);
        var router = TestModels.Router(binding);
        var store = new StateStore();
        using (var first = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits))
        {
            for (var t = 0; t < 6; t++)
            {
                Feed(first, store, new ListSink(), "a", t, Math.Sin(t));
                Feed(first, store, new ListSink(), "b", t, Math.Cos(t));
            }
        }

        // The fixed-lag window's write position, a million slots past the window's three.
        var damaged = store.Streams.Single(s => s.StreamId == "a");
        damaged.Buffer[((FixedLagSmoother)binding.Estimator).Inner.Info.StateLength + 1] = 1e6;
        var changelog = store.Streams.ToDictionary(s => s.StreamId, StreamStateCodec.ToBytes);

        var failures = new List<StreamFailure>();
        using var restored = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits) { StreamFailed = failures.Add };
        var store2 = new StateStore();
        foreach (var (id, bytes) in changelog)
        {
            Assert.True(restored.Restore(store2, id, bytes, out var reason), reason);
        }

        var sink = new ListSink();
        var scratch = StepScratch.Mark;
        for (var t = 6; t < 9; t++)
        {
            Feed(restored, store2, sink, "a", t, Math.Sin(t));
            Feed(restored, store2, sink, "b", t, Math.Cos(t));
        }

        Assert.Equal(scratch, StepScratch.Mark);
        Assert.Empty(sink.DeadLetters);
        var failure = Assert.Single(failures);
        Assert.Equal(("a", "ll", false), (failure.StreamId, failure.Model, failure.RecordRejected));
        Assert.Equal(1, restored.StreamFailures);

        // a goes on as a stream whose first reading is at time 6; b as if nothing happened.
        Assert.Equal(Run(router, ("a", 6, 9, Math.Sin)), Outputs(sink, "a"));
        Assert.Equal(Run(router, ("b", 0, 9, Math.Cos)).Skip(Run(router, ("b", 0, 6, Math.Cos)).Count), Outputs(sink, "b"));
        Assert.Equal(3, store2.Streams.Single(s => s.StreamId == "a").Steps);
    }

    [Fact]
    public void Drain_DamagedStateWithReadingsWaitingForTheWatermark_TheRestartedStreamStepsThemAll()
    {
        var binding = TestModels.Binding(TestModels.LocalLevel, lag: 2);
        var router = TestModels.Router(binding);
        var options = new ProcessorOptions { AllowedLateness = TimeSpan.FromMilliseconds(3 * binding.UnitMilliseconds) };
        var store = new StateStore();
        using (var first = new StreamProcessor(router, options, numericTimeFormat: TimeFormat.ModelUnits))
        {
            for (var t = 0; t < 10; t++)
            {
                Feed(first, store, new ListSink(), "a", t, Math.Sin(t));
            }
        }

        var state = store.Streams.Single();
        Assert.Equal([7.0, 8.0, 9.0], state.Pending!.Select(p => p.ModelTime));
        state.Buffer[((FixedLagSmoother)binding.Estimator).Inner.Info.StateLength] = double.NaN;
        state.Buffer[((FixedLagSmoother)binding.Estimator).Inner.Info.StateLength + 1] = -5;
        var bytes = StreamStateCodec.ToBytes(state);

        using var restored = new StreamProcessor(router, options, numericTimeFormat: TimeFormat.ModelUnits);
        var store2 = new StateStore();
        Assert.True(restored.Restore(store2, "a", bytes, out var reason), reason);
        var sink = new ListSink();
        restored.Drain(store2, sink);

        Assert.Equal(1, restored.StreamFailures);
        Assert.Empty(sink.DeadLetters);
        Assert.Equal(Run(router, ("a", 7, 10, Math.Sin)), Outputs(sink, "a"));
        var after = store2.Streams.Single();
        Assert.Null(after.Pending);
        Assert.Equal(3, after.Steps);
    }

    [Fact]
    public void Process_RecordTheModelThrowsOnFromItsPriorToo_DeadLetteredAsStepFailedAndTheStreamGoesOnFromItsPrior()
    {
        var spec = ModelSpec.Parse(TestModels.LocalLevel);
        var failing = TestModels.Router(new ModelBinding(spec, 0, 1, null, null, wrap: inner => new ThrowsOn(inner, 13.0)));
        var sound = TestModels.Router(new ModelBinding(spec, horizon: 1));
        var failures = new List<StreamFailure>();
        using var p = new StreamProcessor(failing, numericTimeFormat: TimeFormat.ModelUnits) { StreamFailed = failures.Add };
        var store = new StateStore();
        var sink = new ListSink();
        var scratch = StepScratch.Mark;
        double[] a = [1.0, 2.0, 13.0, 4.0, 5.0];
        for (var t = 0; t < a.Length; t++)
        {
            Feed(p, store, sink, "a", t, a[t]);
            Feed(p, store, sink, "b", t, -a[t]);
        }

        Assert.Equal(scratch, StepScratch.Mark);
        var letter = Assert.Single(sink.DeadLetters);
        Assert.Equal(DeadLetterReason.StepFailed, letter.Reason);
        Assert.Equal(2, letter.Source.Offset);
        Assert.Contains("\"values\":[13]", letter.Original, StringComparison.Ordinal);
        Assert.Contains("model 'll' failed to step stream \"a\"", letter.Message, StringComparison.Ordinal);
        Assert.Contains("InvalidOperationException: no reading of 13", letter.Message, StringComparison.Ordinal);
        var failure = Assert.Single(failures);
        Assert.True(failure.RecordRejected);
        Assert.Equal("a", failure.StreamId);

        // Before the record, a ran as usual; after it, a starts from the prior at time 3. b never noticed.
        Assert.Equal(Run(sound, ("a", 0, 2, t => a[(int)t])).Concat(Run(sound, ("a", 3, 5, t => a[(int)t]))), Outputs(sink, "a"));
        Assert.Equal(Run(sound, ("b", 0, 5, t => -a[(int)t])), Outputs(sink, "b"));
        Assert.Equal(2, store.Streams.Single(s => s.StreamId == "a").Steps);
    }

    [Theory]
    [InlineData(TimeFormat.Iso8601, 1e300)]
    [InlineData(TimeFormat.Iso8601, -1e15)]
    [InlineData(TimeFormat.EpochMilliseconds, double.NaN)]
    [InlineData(TimeFormat.EpochMilliseconds, double.PositiveInfinity)]
    public void Process_RestoredWindowWhoseTimesCannotBeWritten_TheStreamStartsAgainFromItsPrior(TimeFormat format, double damagedTime)
    {
        // Every slot of the fixed-lag window keeps the time of its reading, which the smoothed record carries.
        var binding = TestModels.Binding(TestModels.LocalLevel, lag: 2);
        var router = TestModels.Router(binding);
        var smoother = (FixedLagSmoother)binding.Estimator;
        var store = new StateStore();
        string Time(int t) => format == TimeFormat.Iso8601
            ? $"\"2026-03-01T00:00:{t:00}Z\""
            : (1_772_323_200_000L + (1000L * t)).ToString(CultureInfo.InvariantCulture);
        void FeedAt(StreamProcessor p, StateStore s, IRecordSink sink, string stream, int t) =>
            p.ProcessEncoded(Encoding.UTF8.GetBytes($"{{\"time\":{Time(t)},\"values\":[{Math.Sin(t).ToString("R", CultureInfo.InvariantCulture)}]}}"), stream, double.NaN, default, new SourcePosition("in", 0, t), s, sink);

        using (var first = new StreamProcessor(router))
        {
            for (var t = 0; t < 6; t++)
            {
                FeedAt(first, store, new ListSink(), "a", t);
            }
        }

        var state = store.Streams.Single();
        var recordLength = smoother.Inner.Info.BackwardRecordLength;
        var innerLength = smoother.Inner.Info.StateLength;
        for (var slot = 0; slot <= smoother.Lag; slot++)
        {
            state.Buffer[innerLength + 2 + (slot * (recordLength + 1)) + recordLength] = damagedTime;
        }

        var bytes = StreamStateCodec.ToBytes(state);
        var failures = new List<StreamFailure>();
        using var restored = new StreamProcessor(router) { StreamFailed = failures.Add };
        var store2 = new StateStore();
        Assert.True(restored.Restore(store2, "a", bytes, out var reason), reason);
        var sink = new ListSink();
        FeedAt(restored, store2, sink, "a", 6);

        var failure = Assert.Single(failures);
        Assert.False(failure.RecordRejected);
        Assert.Contains("cannot be written", failure.Error.Message, StringComparison.Ordinal);
        Assert.Empty(sink.DeadLetters);
        var filtered = Assert.Single(sink.Records);
        Assert.Equal(OutputKind.Filtered, filtered.Kind);
    }

    private static void Feed(StreamProcessor p, StateStore store, IRecordSink sink, string stream, double time, double value) =>
        p.ProcessEncoded(
            Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"time\":{time:R},\"values\":[{value:R}]}}")),
            stream,
            double.NaN,
            default,
            new SourcePosition("in", 0, (long)time),
            store,
            sink);

    /// <summary>The outputs of one stream fed alone from its prior, times <c>from</c> to <c>to</c> (exclusive).</summary>
    private static List<string> Run(ModelRouter router, (string Stream, int From, int To, Func<double, double> Value) feed)
    {
        using var p = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var sink = new ListSink();
        for (var t = feed.From; t < feed.To; t++)
        {
            Feed(p, store, sink, feed.Stream, t, feed.Value(t));
        }

        Assert.Empty(sink.DeadLetters);
        return Outputs(sink, feed.Stream);
    }

    private static List<string> Outputs(ListSink sink, string stream) => [.. sink.Records.Where(r => r.Stream == stream).Select(r => $"{r.Kind} {r.Json}")];

    /// <summary>A model that throws on one reading, whatever its state; otherwise the model it wraps.</summary>
    private sealed class ThrowsOn(IEstimator inner, double poison) : IEstimator
    {
        public EstimatorInfo Info => inner.Info;

        public void Initialize(Span<double> state, ulong seed) => inner.Initialize(state, seed);

        public void Step(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord)
        {
            if (observation.Values[0] == poison)
            {
                // Part of a step's work happened before the failure: the state is half-updated.
                state[0] = double.NaN;
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"no reading of {poison}"));
            }

            inner.Step(state, observation, estimate, backwardRecord);
        }

        public void Forecast(ReadOnlySpan<double> state, double stepGap, Forecast forecast) => inner.Forecast(state, stepGap, forecast);

        public void ReadState(ReadOnlySpan<double> state, Span<double> mean, Span<double> covariance) => inner.ReadState(state, mean, covariance);
    }
}
