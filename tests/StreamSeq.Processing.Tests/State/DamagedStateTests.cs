using System.Globalization;
using System.Text;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;
using StreamSeq.Testing;

namespace StreamSeq.Processing.Tests.State;

/// <summary>
/// For every bundled example model (one per family): a stream's state half-way through the file with one value
/// replaced by a hostile one (NaN, infinities, negative, fractional, huge) at positions spread over the whole buffer,
/// as a damaged changelog record that still decodes would give. A step on it never writes outside the stream's buffer,
/// and the processor never throws: the stream either steps or starts again from its prior.
/// </summary>
public sealed class DamagedStateTests
{
    private const int Canary = 64;
    private static readonly double[] Hostile = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, -1.0, 0.5, 1e9, -1e9, 2147483648.0];

    public static TheoryData<string> Examples() => ExampleModels.Names();

    [Theory]
    [MemberData(nameof(Examples))]
    public void Step_OnAStateWithOneHostileValue_StaysInsideTheBufferAndTheProcessorNeverThrows(string example)
    {
        var binding = ExampleModels.Binding(example);
        var router = new ModelRouter([binding]);
        var rows = ExampleModels.Rows(example, binding.UnitMilliseconds);
        // Half-way through the first stream's records (examples list their streams one after another or interleaved).
        var ofFirst = Enumerable.Range(0, rows.Count).Where(i => rows[i].Stream == rows[0].Stream).ToList();
        var half = ofFirst[ofFirst.Count / 2];
        var store = new StateStore();
        using (var processor = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits))
        {
            for (var i = 0; i < half; i++)
            {
                processor.ProcessEncoded(rows[i].Json, default, double.NaN, default, new SourcePosition(example, -1, i), store, new ListSink());
            }
        }

        var next = rows[half];
        Assert.True(store.TryGetLive(next.Stream, out var state));
        var estimator = binding.Estimator;
        state.ReserveForNextStep();
        var good = state.Buffer.ToArray();
        var gap = next.Time - state.LastModelTime;
        var estimate = new Estimate(estimator.Info);
        var forecast = new Forecast(estimator.Info, binding.Horizon);
        var outcomes = new Dictionary<string, int>();
        foreach (var index in Positions(good.Length))
        {
            foreach (var value in Hostile)
            {
                // Straight on the estimator, the stream's buffer between two fenced regions.
                var fenced = new double[Canary + good.Length + Canary];
                fenced.AsSpan().Fill(-7.25e-300);
                good.CopyTo(fenced, Canary);
                fenced[Canary + index] = value;
                var buffer = fenced.AsSpan(Canary, good.Length);
                var mark = StepScratch.Mark;
                try
                {
                    estimator.Step(buffer, new Observation(next.Values, gap, next.Time), estimate, default);
                    estimator.Forecast(buffer, binding.Spec.ForecastStep, forecast);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    StepScratch.Release(mark);
                }

                Assert.Equal(mark, StepScratch.Mark);
                for (var i = 0; i < Canary; i++)
                {
                    Assert.True(fenced[i] == -7.25e-300 && fenced[Canary + good.Length + i] == -7.25e-300, $"{example}: a step on a state with {value} at {index} wrote outside the stream's buffer");
                }

                // Through the changelog codec and the processor.
                good.CopyTo(state.Buffer, 0);
                state.Buffer[index] = value;
                var bytes = StreamStateCodec.ToBytes(state);
                var failures = 0;
                using var restored = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits) { StreamFailed = _ => failures++ };
                var store2 = new StateStore();
                var sink = new ListSink();
                var kept = restored.Restore(store2, next.Stream, bytes, out _);
                restored.ProcessEncoded(next.Json, default, double.NaN, default, new SourcePosition(example, -1, half), store2, sink);
                Assert.True(sink.Records.Count > 0 || sink.DeadLetters.Any(d => d.Reason == DeadLetterReason.StepFailed), $"{example}: {value} at {index} gave neither outputs nor a step-failed dead letter");
                var outcome = !kept ? "discarded on restore" : failures > 0 ? "restarted" : "stepped";
                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            }
        }

        // Every position took every value.
        Assert.Equal(Positions(good.Length).Count() * Hostile.Length, outcomes.Values.Sum());
    }

    /// <summary>Every position of a short buffer; of a long one the first and last 16 and 32 spread between.</summary>
    private static IEnumerable<int> Positions(int length) =>
        length <= 64
            ? Enumerable.Range(0, length)
            : Enumerable.Range(0, 16).Concat(Enumerable.Range(1, 32).Select(k => 16 + (int)((long)k * (length - 32) / 33))).Concat(Enumerable.Range(length - 16, 16)).Distinct();
}
