using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;

namespace StreamSeq.Processing.Tests.State;

public sealed class GrowingStateTests
{
    [Fact]
    public void Process_LongLag_ReservesOnlyWhatTheStreamHasSeenAndSmoothsAsAFullBufferWould()
    {
        var binding = TestModels.Binding(TestModels.LocalLevel, lag: 1000);
        using var p = new StreamProcessor(TestModels.Router(binding), numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var sink = new ListSink();
        var smoother = (FixedLagSmoother)binding.Estimator;
        var full = new double[smoother.Info.StateLength];
        smoother.Initialize(full, 0);
        var estimate = new Estimate(smoother.Info);
        var values = new[] { 1.0, 2.5, double.NaN, 3.0, 2.0 };

        for (var t = 0; t < values.Length; t++)
        {
            p.Process(new InputRecord("s", new RecordTime(t, TimeFormat.ModelUnits), [values[t]], SourcePosition.FileLine("f", t)), store, sink);
            smoother.Step(full, new Observation([values[t]], t == 0 ? 0 : 1, t, default), estimate, default);
        }

        Assert.True(store.TryGetLive("s", out var state));
        Assert.True(state!.Buffer.Length < smoother.Info.StateLength / 50, $"{state.Buffer.Length} of {smoother.Info.StateLength} reserved after 5 steps");
        Assert.Equal(full.AsSpan(0, state.Buffer.Length).ToArray(), state.Buffer);
        Assert.All(full.AsSpan(state.Buffer.Length).ToArray(), x => Assert.Equal(0.0, x));

        var restored = StreamStateCodec.Read("s", StreamStateCodec.ToBytes(state), TestModels.Router(binding), out _)!;
        Assert.Equal(StreamStateCodec.ToBytes(state), StreamStateCodec.ToBytes(restored));
        Assert.Equal(state.Buffer.AsSpan(0, Math.Min(state.Buffer.Length, restored.Buffer.Length)).ToArray(), restored.Buffer.AsSpan(0, Math.Min(state.Buffer.Length, restored.Buffer.Length)).ToArray());
    }
}
