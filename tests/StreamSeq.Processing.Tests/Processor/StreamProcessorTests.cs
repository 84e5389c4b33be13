using System.Globalization;
using System.Text;
using System.Text.Json;
using CsCheck;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;

namespace StreamSeq.Processing.Tests.Processor;

public sealed class StreamProcessorTests
{
    private static ReadOnlySpan<byte> Json(string s) => Encoding.UTF8.GetBytes(s);

    private static void Feed(StreamProcessor p, StateStore store, IRecordSink sink, string stream, double time, params double[] values)
    {
        var v = string.Join(",", values.Select(x => double.IsNaN(x) ? "null" : x.ToString("R", CultureInfo.InvariantCulture)));
        p.ProcessEncoded(Json($"{{\"time\":{time.ToString("R", CultureInfo.InvariantCulture)},\"values\":[{v}]}}"), stream, double.NaN, default, new SourcePosition("in", 0, (long)time), store, sink);
    }

    private static List<double[]> Series(int n, int seed)
    {
        var rng = new Random(seed);
        var level = 0.0;
        return [.. Enumerable.Range(0, n).Select(_ => { level += rng.NextDouble() - 0.5; return new[] { level + ((rng.NextDouble() - 0.5) * 4) }; })];
    }

    [Fact]
    public void Process_LocalLevel_FilteredRecordsEqualDirectEstimatorRun()
    {
        var binding = TestModels.Binding(TestModels.LocalLevel);
        using var p = new StreamProcessor(TestModels.Router(binding), numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var sink = new ListSink();
        var data = Series(50, 1);
        for (var t = 0; t < data.Count; t++)
        {
            Feed(p, store, sink, "a", t, data[t]);
        }

        var est = binding.Estimator;
        var state = new double[est.Info.StateLength];
        est.Initialize(state, 0);
        var e = new Estimate(est.Info);
        var records = sink.Of(OutputKind.Filtered).ToList();
        Assert.Equal(data.Count, records.Count);
        for (var t = 0; t < data.Count; t++)
        {
            est.Step(state, new Observation(data[t]), e, default);
            var r = records[t];
            Assert.Equal("filtered", r.GetProperty("type").GetString());
            Assert.Equal(t, r.GetProperty("time").GetDouble());
            Assert.Equal(e.StateMean[0], r.GetProperty("state").GetProperty("mean")[0].GetDouble());
            Assert.Equal(e.StateCovariance[0], r.GetProperty("state").GetProperty("cov")[0][0].GetDouble());
            Assert.Equal(e.LogLikelihood, r.GetProperty("logLik").GetDouble());
            Assert.Equal(e.NormalizedInnovationSquared, r.GetProperty("nis").GetDouble());
        }
    }

    [Fact]
    public void Process_SameTimeTwice_DropsTheDuplicate()
    {
        using var p = new StreamProcessor(TestModels.Router(TestModels.Binding(TestModels.LocalLevel)), numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var sink = new ListSink();
        Feed(p, store, sink, "a", 1, 1.0);
        Feed(p, store, sink, "a", 1, 1.0);
        Feed(p, store, sink, "a", 2, 2.0);
        Assert.Equal(2, sink.Of(OutputKind.Filtered).Count());
        Assert.Equal(1, p.Duplicates);
        Assert.Empty(sink.DeadLetters);
    }

    [Fact]
    public void Process_TimeGoingBackwards_DeadLettersTooLateAndKeepsGoing()
    {
        using var p = new StreamProcessor(TestModels.Router(TestModels.Binding(TestModels.LocalLevel)), numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var sink = new ListSink();
        Feed(p, store, sink, "a", 5, 1.0);
        Feed(p, store, sink, "a", 3, 9.0);
        Feed(p, store, sink, "a", 6, 1.0);
        var dl = Assert.Single(sink.DeadLetters);
        Assert.Equal(DeadLetterReason.TooLate, dl.Reason);
        Assert.Contains("time 3 is before the last processed time 5 of stream \"a\"", dl.Message, StringComparison.Ordinal);
        Assert.Equal(3, dl.Source.Offset);
        Assert.Contains("\"values\":[9]", dl.Original, StringComparison.Ordinal);
        Assert.Equal(2, sink.Of(OutputKind.Filtered).Count());
    }

    [Fact]
    public void Process_TooLateEpochMillisecondsUnderAnIdWithAnApostrophe_QuotesTheIdAsAJsonStringAndSaysWhenTheTimesAre()
    {
        using var p = new StreamProcessor(TestModels.Router(TestModels.Binding(TestModels.LocalLevel)), numericTimeFormat: TimeFormat.EpochMilliseconds);
        var store = new StateStore();
        var sink = new ListSink();
        Feed(p, store, sink, "x's", 3, 1.0);
        Feed(p, store, sink, "x's", -5, 1.0);

        // It read "time -5 is before stream 'x's''s last processed time 3": the id's own apostrophe and the possessive
        // made it ambiguous where the id ends, and the epoch milliseconds did not say which instant they were.
        var dl = Assert.Single(sink.DeadLetters);
        Assert.Equal(DeadLetterReason.TooLate, dl.Reason);
        Assert.Equal("time -5 (1969-12-31T23:59:59.995Z) is before the last processed time 3 (1970-01-01T00:00:00.003Z) of stream \"x's\" (allowed lateness 00:00:00).", dl.Message);
    }

    [Fact]
    public void Process_TooLateInModelTimeUnits_GivesTheAllowedLatenessInModelTimeUnitsToo()
    {
        // A file's times are model time units, and so is `run --allowed-lateness 1.5`; the message gave the lateness as
        // a time span ("allowed lateness 00:01:30" for a model whose unit is a minute) beside times 2 and 3.
        var perMinute = TestModels.Binding(TestModels.LocalLevel.Replace("\"name\":\"ll\",", "\"name\":\"ll\",\"timeUnit\":\"PT1M\",", StringComparison.Ordinal));
        using var p = new StreamProcessor(TestModels.Router(perMinute), new ProcessorOptions { AllowedLateness = TimeSpan.FromSeconds(90) }, numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var sink = new ListSink();
        Feed(p, store, sink, "a", 1, 1.0);
        Feed(p, store, sink, "a", 3, 1.0);
        Feed(p, store, sink, "a", 10, 1.0);
        Feed(p, store, sink, "a", 2, 2.0);

        var dl = Assert.Single(sink.DeadLetters);
        Assert.Equal(DeadLetterReason.TooLate, dl.Reason);
        Assert.Equal("time 2 is before the last processed time 3 of stream \"a\" (allowed lateness 1.5).", dl.Message);
    }

    [Fact]
    public void Process_OutOfOrderWithinAllowedLateness_EqualsInOrderRun()
    {
        var binding = TestModels.Binding(TestModels.Trend, lag: 2);
        var data = Series(60, 2);
        var inOrder = Run(binding, TimeSpan.Zero, Enumerable.Range(0, data.Count).ToList(), data);

        // Swap neighbours and move some records up to 3 steps late; allowed lateness is 3 s (model unit 1 s).
        var rng = new Random(5);
        var order = Enumerable.Range(0, data.Count).ToList();
        for (var i = 0; i + 3 < order.Count; i += 4)
        {
            var j = i + rng.Next(1, 4);
            (order[i], order[j]) = (order[j], order[i]);
        }

        var shuffled = Run(binding, TimeSpan.FromSeconds(3), order, data);
        Assert.Equal(inOrder, shuffled);

        static List<string> Run(ModelBinding b, TimeSpan lateness, List<int> order, List<double[]> data)
        {
            using var p = new StreamProcessor(TestModels.Router(b), new ProcessorOptions { AllowedLateness = lateness }, numericTimeFormat: TimeFormat.EpochMilliseconds);
            var store = new StateStore();
            var sink = new ListSink();
            foreach (var i in order)
            {
                Feed(p, store, sink, "s", 1000.0 * i, data[i]);
            }

            p.Drain(store, sink);
            Assert.Empty(sink.DeadLetters);
            return [.. sink.Records.Select(r => r.Json)];
        }
    }

    [Fact]
    public void Process_BadRecordsInOneStream_DoNotChangeOtherStreams()
    {
        var binding = TestModels.Binding(TestModels.LocalLevel);
        var clean = Run(withBad: false);
        var dirty = Run(withBad: true);
        Assert.Equal(clean.Records.Where(r => r.Stream == "good").Select(r => r.Json), dirty.Records.Where(r => r.Stream == "good").Select(r => r.Json));
        Assert.Equal(
            [DeadLetterReason.WrongDimension, DeadLetterReason.Unparseable, DeadLetterReason.TooLate, DeadLetterReason.MissingKey],
            dirty.DeadLetters.Select(d => d.Reason));

        ListSink Run(bool withBad)
        {
            using var p = new StreamProcessor(TestModels.Router(binding), numericTimeFormat: TimeFormat.ModelUnits);
            var store = new StateStore();
            var sink = new ListSink();
            for (var t = 0; t < 20; t++)
            {
                Feed(p, store, sink, "good", t, Math.Sin(t));
                Feed(p, store, sink, "other", t, Math.Cos(t));
                if (withBad && t == 10)
                {
                    Feed(p, store, sink, "other", t + 0.5, 1.0, 2.0);
                    p.ProcessEncoded(Json("{\"values\":[1,"), "other", double.NaN, default, new SourcePosition("in", 0, 99), store, sink);
                    Feed(p, store, sink, "other", 3, 1.0);
                    p.ProcessEncoded(Json("{\"time\":1,\"values\":[1]}"), default, double.NaN, default, new SourcePosition("in", 0, 100), store, sink);
                }
            }

            return sink;
        }
    }

    [Fact]
    public void Process_NoRouteForStream_DeadLettersUnknownModel()
    {
        var a = TestModels.Binding(TestModels.LocalLevel);
        var router = new ModelRouter([a], [new ModelRoute("ll", StreamPattern: "pump-*")]);
        using var p = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits);
        var sink = new ListSink();
        var store = new StateStore();
        Feed(p, store, sink, "pump-1", 1, 1.0);
        Feed(p, store, sink, "fan-1", 1, 1.0);
        Assert.Single(sink.Of(OutputKind.Filtered));
        Assert.Equal(DeadLetterReason.UnknownModel, Assert.Single(sink.DeadLetters).Reason);
    }

    [Fact]
    public void Process_LagAndHorizon_EmitSmoothedAndForecastRecordsWithTimes()
    {
        var binding = TestModels.Binding(TestModels.Trend, lag: 3, horizon: 2);
        using var p = new StreamProcessor(TestModels.Router(binding), numericTimeFormat: TimeFormat.EpochMilliseconds);
        var store = new StateStore();
        var sink = new ListSink();
        var data = Series(10, 3);
        for (var t = 0; t < data.Count; t++)
        {
            Feed(p, store, sink, "s", 2000.0 * t, data[t]);
        }

        var smoothed = sink.Of(OutputKind.Smoothed).ToList();
        Assert.Equal(7, smoothed.Count);
        Assert.Equal(0.0, smoothed[0].GetProperty("time").GetDouble());
        Assert.Equal(3, smoothed[0].GetProperty("lag").GetInt32());
        Assert.Equal("fixed-lag", smoothed[0].GetProperty("method").GetString());
        var forecasts = sink.Of(OutputKind.Forecast).ToList();
        Assert.Equal(20, forecasts.Count);
        var last = forecasts[^1];
        Assert.Equal(18000.0, last.GetProperty("madeAt").GetDouble());
        Assert.Equal(2, last.GetProperty("horizon").GetInt32());
        Assert.Equal(18000.0 + 2000.0, last.GetProperty("time").GetDouble());
    }

    [Fact]
    public void Restore_MidStream_ContinuesBitIdentically()
    {
        var binding = TestModels.Binding(TestModels.Trend, lag: 2, horizon: 1);
        var data = Series(80, 4);
        var streams = new[] { "a", "b", "c" };
        List<string> Uninterrupted()
        {
            using var p = new StreamProcessor(TestModels.Router(binding));
            var store = new StateStore();
            var sink = new ListSink();
            for (var t = 0; t < data.Count; t++)
            {
                foreach (var s in streams)
                {
                    Feed(p, store, sink, s, 1000.0 * t, data[t][0] + s[0]);
                }
            }

            return [.. sink.Records.Select(r => r.Json)];
        }

        var expected = Uninterrupted();
        var sink2 = new ListSink();
        var router = TestModels.Router(binding);
        var store1 = new StateStore();
        using (var p1 = new StreamProcessor(router))
        {
            for (var t = 0; t < 37; t++)
            {
                foreach (var s in streams)
                {
                    Feed(p1, store1, sink2, s, 1000.0 * t, data[t][0] + s[0]);
                }
            }
        }

        var changelog = store1.Streams.ToDictionary(s => s.StreamId, StreamStateCodec.ToBytes);
        var store2 = new StateStore();
        using var p2 = new StreamProcessor(router);
        foreach (var (id, bytes) in changelog)
        {
            Assert.True(p2.Restore(store2, id, bytes, out var reason), reason);
        }

        for (var t = 37; t < data.Count; t++)
        {
            foreach (var s in streams)
            {
                Feed(p2, store2, sink2, s, 1000.0 * t, data[t][0] + s[0]);
            }
        }

        Assert.Equal(expected, sink2.Records.Select(r => r.Json));
    }

    [Fact]
    public void Restore_StateOfChangedModel_IsDiscarded()
    {
        var before = TestModels.Binding(TestModels.LocalLevel);
        using var p = new StreamProcessor(TestModels.Router(before), numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        Feed(p, store, new ListSink(), "a", 1, 1.0);
        var bytes = StreamStateCodec.ToBytes(store.Streams.Single());
        var after = TestModels.Binding(TestModels.LocalLevel.Replace("[[4]]", "[[5]]", StringComparison.Ordinal));
        using var p2 = new StreamProcessor(TestModels.Router(after));
        Assert.False(p2.Restore(new StateStore(), "a", bytes, out var reason));
        Assert.Contains("changed", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Process_LiveStreamLimit_EvictsAndRevivesWithoutChangingOutputs()
    {
        var binding = TestModels.Binding(TestModels.LocalLevel, lag: 1);
        List<string> Run(int limit)
        {
            using var p = new StreamProcessor(TestModels.Router(binding), numericTimeFormat: TimeFormat.ModelUnits);
            var store = new StateStore(maxLiveStreams: limit);
            var sink = new ListSink();
            for (var t = 0; t < 30; t++)
            {
                for (var s = 0; s < 25; s++)
                {
                    Feed(p, store, sink, $"s{s}", t, Math.Sin(t + s));
                    if (limit > 0)
                    {
                        store.ClearDirty();
                    }
                }
            }

            if (limit > 0)
            {
                Assert.True(store.Evictions > 0);
            }

            return [.. sink.Records.Select(r => r.Json)];
        }

        Assert.Equal(Run(0), Run(8));
    }

    [Fact]
    public void Process_LiveStreamLimitReachedWhileOtherStreamsAreDirty_NewAndRevivedStreamsKeepTheirFirstStep()
    {
        // Between commits the streams of a batch are dirty (not yet in the changelog) and cannot be evicted; a stream
        // created or revived then must not evict itself before its step, or that step is lost.
        var binding = TestModels.Binding(TestModels.LocalLevel);
        List<string> Run(int limit)
        {
            using var p = new StreamProcessor(TestModels.Router(binding), numericTimeFormat: TimeFormat.ModelUnits);
            var store = new StateStore(maxLiveStreams: limit);
            var sink = new ListSink();
            for (var t = 0; t < 20; t++)
            {
                for (var s = 0; s < 12; s++)
                {
                    Feed(p, store, sink, $"s{s}", t, Math.Cos(t + s));
                }

                // A commit every round of twelve records.
                store.ClearDirty();
            }

            return [.. sink.Records.Select(r => r.Json)];
        }

        Assert.Equal(Run(0), Run(4));
    }

    [Fact]
    public void Process_LiveStreamLimitWithCommitsAtRandomPoints_OutputsAndCommittedStatesEqualAnUnlimitedRun()
    {
        // The transport writes DirtyStreams and DirtyEvicted at each commit and then clears them: that view of the
        // changelog must end with every stream's latest state, however many streams were evicted in between.
        var binding = TestModels.Binding(TestModels.LocalLevel, lag: 1);
        var router = TestModels.Router(binding);
        Gen.Select(Gen.Int[1, 6], Gen.Int[0, 19].Array[20, 300], Gen.Int[1, 40]).Sample((limit, streams, commitEvery) =>
        {
            (List<string> Outputs, Dictionary<string, byte[]> Changelog) Run(int maxLive)
            {
                using var p = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits);
                var store = new StateStore(maxLiveStreams: maxLive);
                var sink = new ListSink();
                var changelog = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                var times = new int[20];
                void Commit()
                {
                    foreach (var state in store.DirtyStreams)
                    {
                        changelog[state.StreamId] = StreamStateCodec.ToBytes(state);
                    }

                    foreach (var (id, bytes) in store.DirtyEvicted)
                    {
                        changelog[id] = bytes;
                    }

                    store.ClearDirty();
                }

                for (var i = 0; i < streams.Length; i++)
                {
                    var s = streams[i];
                    Feed(p, store, sink, $"s{s}", times[s]++, Math.Sin(i));
                    if ((i + 1) % commitEvery == 0)
                    {
                        Commit();
                    }
                }

                Commit();
                Assert.True(maxLive == 0 || store.LiveCount <= maxLive, $"{store.LiveCount} live streams over the limit of {maxLive}");
                return ([.. sink.Records.Select(r => r.Json)], changelog);
            }

            var (expectedOutputs, expectedStates) = Run(0);
            var (outputs, states) = Run(limit);
            Assert.Equal(expectedOutputs, outputs);
            Assert.Equal(expectedStates.Keys.Order(), states.Keys.Order());
            Assert.All(expectedStates, e => Assert.Equal(e.Value, states[e.Key]));
        }, iter: 200);
    }

    [Fact]
    public void Process_RejectedRecordsUnderNewStreamIds_CreateNoStreamState()
    {
        var binding = TestModels.Binding(TestModels.LocalLevel);
        using var p = new StreamProcessor(TestModels.Router(binding), numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var sink = new ListSink();
        for (var i = 0; i < 1000; i++)
        {
            Feed(p, store, sink, $"wrong-{i}", 0, 1, 2);
            p.ProcessEncoded(Json("{\"time\":0,\"values\":[1],\"control\":[3]}"), $"control-{i}", double.NaN, default, new SourcePosition("in", 0, i), store, sink);
        }

        Assert.Equal(2000, sink.DeadLetters.Count);
        Assert.All(sink.DeadLetters, d => Assert.Equal(DeadLetterReason.WrongDimension, d.Reason));
        Assert.Equal(0, store.LiveCount);
        Assert.Equal(0, store.EvictedCount);

        // A stream that exists keeps its state when one of its records is rejected.
        Feed(p, store, sink, "good", 0, 1);
        Feed(p, store, sink, "good", 1, 1, 2);
        Feed(p, store, sink, "good", 2, 1);
        Assert.Equal(1, store.LiveCount);
        Assert.Equal(2, store.Streams.Single().Steps);
    }

    [Fact]
    public void ProcessEncoded_ArbitraryInput_NeverThrowsAndNeverEmitsNaN()
    {
        var binding = TestModels.Binding(TestModels.LocalLevel);
        using var p = new StreamProcessor(TestModels.Router(binding), numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var sink = new ListSink();
        var value = Gen.OneOf(Gen.Double.Select(d => d.ToString("R", CultureInfo.InvariantCulture)), Gen.Const("null"), Gen.Const("\"NaN\""), Gen.Const("1e308"), Gen.Const("-1e308"));
        var record = Gen.Select(Gen.Double[-10, 1000], value.Array[0, 3], Gen.Int[0, 3]).Select((t, v, s) => ($"s{s}", $"{{\"time\":{t.ToString("R", CultureInfo.InvariantCulture)},\"values\":[{string.Join(",", v)}]}}"));
        record.Sample(r => p.ProcessEncoded(Json(r.Item2), r.Item1, double.NaN, default, new SourcePosition("fuzz", 0, 0), store, sink), iter: 3000, threads: 1);
        foreach (var r in sink.Records)
        {
            Assert.DoesNotContain("NaN", r.Json, StringComparison.Ordinal);
            try
            {
                using var doc = JsonDocument.Parse(r.Json);
            }
            catch (JsonException e)
            {
                Assert.Fail($"invalid JSON record ({e.Message}): {r.Json}");
            }
        }
    }
}
