using System.Globalization;
using System.Text;
using CsCheck;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;

namespace StreamSeq.Processing.Tests.State;

/// <summary>A store caching committed states (the disk store's view), against an unbounded in-memory run.</summary>
[Collection(HeapMeasurementCollection.Name)]
public sealed class StateStoreCacheTests
{
    [Fact]
    public void Process_CacheOverCommittedStatesWithCommitsAndAbortsAtRandomPoints_CommittedOutputsAndStatesEqualAnUnboundedRun()
    {
        // What the worker does: at a commit the dirty streams' bytes go to the changelog and, once it committed, to the
        // committed states; an abort drops the cache, rebuilds it over the committed states and redoes the batch.
        var router = TestModels.Router(TestModels.Binding(TestModels.LocalLevel, lag: 1));
        Gen.Select(Gen.Int[1, 12], Gen.Int[0, 29].Array[20, 400], Gen.Int[1, 40], Gen.Int[0, 3].Array[30]).Sample((cacheStreams, streams, commitEvery, fates) =>
        {
            using var reference = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits);
            var referenceStore = new StateStore();
            var referenceSink = new ListSink();
            var times = new int[30];
            for (var i = 0; i < streams.Length; i++)
            {
                Feed(reference, referenceStore, referenceSink, $"s{streams[i]}", times[streams[i]]++, Math.Sin(i));
            }

            var expectedStates = referenceStore.Streams.ToDictionary(s => s.StreamId, StreamStateCodec.ToBytes, StringComparer.Ordinal);

            using var p = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits);
            var committed = new DictionaryStates();
            var cacheBytes = cacheStreams * 600L;
            var store = StateStore.Caching(0, committed, cacheBytes);
            var outputs = new List<string>();
            Array.Clear(times);
            var batchStart = 0;
            var batchTimes = (int[])times.Clone();
            var batch = 0;
            var aborts = 0;
            var sink = new ListSink();
            for (var i = 0; i <= streams.Length; i++)
            {
                var end = i == streams.Length;
                if (!end)
                {
                    Feed(p, store, sink, $"s{streams[i]}", times[streams[i]]++, Math.Sin(i));
                }

                if (!end && (i + 1 - batchStart) % commitEvery != 0)
                {
                    continue;
                }

                if (!end && fates[batch++ % fates.Length] == 0 && aborts < 5)
                {
                    // Abort: nothing of the batch counts; the cache restarts over the committed states, the batch is redone.
                    aborts++;
                    store = StateStore.Caching(0, committed, cacheBytes);
                    sink = new ListSink();
                    Array.Copy(batchTimes, times, times.Length);
                    i = batchStart - 1;
                    continue;
                }

                foreach (var state in store.DirtyStreams)
                {
                    committed.States[state.StreamId] = StreamStateCodec.ToBytes(state);
                }

                Assert.Empty(store.DirtyEvicted);
                store.ClearDirty();
                Assert.True(store.LiveBytes <= cacheBytes, $"{store.LiveBytes} cached bytes over the bound of {cacheBytes} with nothing dirty");
                outputs.AddRange(sink.Records.Select(r => r.Json));
                sink = new ListSink();
                batchStart = i + 1;
                batchTimes = (int[])times.Clone();
            }

            Assert.Equal(referenceSink.Records.Select(r => r.Json), outputs);
            Assert.Equal(expectedStates.Keys.Order(), committed.States.Keys.Order());
            Assert.All(expectedStates, e => Assert.Equal(e.Value, committed.States[e.Key]));
        }, iter: 150);
    }

    [Fact]
    public void Put_DirtyStreamsBeyondTheBound_StayUntilCommittedThenTheCacheShrinksAndRereadsThemFromTheCommittedStates()
    {
        var router = TestModels.Router(TestModels.Binding(TestModels.LocalLevel));
        using var p = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits);
        var committed = new DictionaryStates();
        var store = StateStore.Caching(0, committed, 1_000);
        var sink = new ListSink();
        for (var s = 0; s < 20; s++)
        {
            Feed(p, store, sink, $"s{s}", 0, s);
        }

        // Twenty dirty streams are far over 1,000 bytes: none may leave memory before its commit.
        Assert.Equal(20, store.LiveCount);
        Assert.Equal(20, store.DirtyStreams.Count());
        foreach (var state in store.DirtyStreams)
        {
            committed.States[state.StreamId] = StreamStateCodec.ToBytes(state);
        }

        store.ClearDirty();
        Assert.True(store.LiveBytes <= 1_000);
        Assert.InRange(store.LiveCount, 1, 19);
        Assert.Equal(20 - store.LiveCount, store.CacheDrops);

        // A dropped stream continues from its committed state, exactly as one that never left.
        var memory = new StateStore();
        using var p2 = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits);
        var expected = new ListSink();
        var actual = new ListSink();
        for (var s = 0; s < 20; s++)
        {
            Feed(p2, memory, new ListSink(), $"s{s}", 0, s);
        }

        for (var s = 0; s < 20; s++)
        {
            Feed(p2, memory, expected, $"s{s}", 1, -s);
            Feed(p, store, actual, $"s{s}", 1, -s);
        }

        Assert.Equal(expected.Records.Select(r => r.Json), actual.Records.Select(r => r.Json));
        Assert.Equal(20, store.DirtyStreams.Count());
    }

    [Fact]
    public void EstimateBytes_LocalLevelStreamsInACache_WithinAThirdOfTheMeasuredHeap()
    {
        // The cache's bound is only as good as its estimate: compare it with what the heap grows by.
        var router = TestModels.Router(TestModels.Binding(TestModels.LocalLevel));
        using var p = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits);
        var store = StateStore.Caching(0, new DictionaryStates(), long.MaxValue);
        var sink = new NullSink();
        const int n = 20_000;
        var ids = Enumerable.Range(0, n).Select(i => $"stream-{i:D6}").ToArray();
        var records = ids.Select(_ => Encoding.UTF8.GetBytes("{\"time\":0,\"values\":[1.5]}")).ToArray();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < n; i++)
        {
            p.ProcessEncoded(records[i], ids[i], double.NaN, default, new SourcePosition("in", 0, i), store, sink);
        }

        store.ClearDirty();
        var after = GC.GetTotalMemory(forceFullCollection: true);

        // The ids and records were allocated before the measurement; the streams hold their own copy of the id.
        var measured = (double)(after - before) / n;
        var estimated = (double)store.LiveBytes / n;
        Assert.Equal(n, store.LiveCount);
        Assert.True(estimated / measured is > 0.75 and < 1.33, $"estimated {estimated:F0} bytes per stream, measured {measured:F0}");
        GC.KeepAlive(store);
    }

    [Fact]
    public void TryRemove_StreamCommittedOnDisk_IsNoLongerReadAndIsListedForATombstoneUntilTheCommit()
    {
        // A stream whose records now arrive on another partition: its committed copy must not come back before the
        // commit that writes its tombstone (and deletes it from the disk store).
        var router = TestModels.Router(TestModels.Binding(TestModels.LocalLevel));
        using var p = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits);
        var committed = new DictionaryStates();
        var store = StateStore.Caching(0, committed, 1);
        Feed(p, store, new NullSink(), "s", 0, 1.5);
        committed.States["s"] = StreamStateCodec.ToBytes(Assert.Single(store.DirtyStreams));
        store.ClearDirty();
        Assert.Equal(0, store.LiveCount);

        Assert.True(store.TryRemove("s", out var live, out var data));
        Assert.Null(live);
        Assert.Equal(committed.States["s"], data);
        Assert.False(store.TryPeekEvicted("s", out _));
        Assert.False(store.TryTakeEvicted("s", out _, out _, out _));
        Assert.False(store.TryRemove("s", out _, out _));
        Assert.Equal(["s"], store.Removed);

        // The commit wrote the tombstone and deleted the committed copy.
        committed.States.Remove("s");
        store.ClearDirty();
        Assert.Empty(store.Removed);
    }

    [Fact]
    public void TryRemove_LiveStreamTakenOverByAnotherStore_IsAmongTheOtherStoresChangedStreams()
    {
        var router = TestModels.Router(TestModels.Binding(TestModels.LocalLevel));
        using var p = new StreamProcessor(router, numericTimeFormat: TimeFormat.ModelUnits);
        var from = new StateStore(0);
        var to = new StateStore(1);
        for (var t = 0; t < 5; t++)
        {
            Feed(p, from, new NullSink(), "s", t, 1.5);
            from.ClearDirty();
        }

        Assert.True(from.TryRemove("s", out var live, out var data));
        Assert.Null(data);
        Assert.NotNull(live);
        Assert.Equal(0, from.LiveCount);
        Assert.Empty(from.DirtyStreams);
        Assert.Equal(["s"], from.Removed);

        live.Dirty = true;
        to.Put(live);
        Assert.Same(live, Assert.Single(to.DirtyStreams));

        // Stepped again in its new store, it goes on from where it was.
        Feed(p, to, new NullSink(), "s", 5, 1.5);
        Assert.Equal(6, Assert.Single(to.Streams).Steps);
    }

    private static void Feed(StreamProcessor p, StateStore store, IRecordSink sink, string stream, double time, double value) =>
        p.ProcessEncoded(Encoding.UTF8.GetBytes($"{{\"time\":{time.ToString("R", CultureInfo.InvariantCulture)},\"values\":[{value.ToString("R", CultureInfo.InvariantCulture)}]}}"), stream, double.NaN, default, new SourcePosition("in", 0, (long)time), store, sink);

    private sealed class DictionaryStates : ICommittedStates
    {
        public Dictionary<string, byte[]> States { get; } = new(StringComparer.Ordinal);

        public bool TryRead(ReadOnlySpan<char> streamId, out byte[] data) => States.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(streamId, out data!);
    }

    private sealed class NullSink : IRecordSink
    {
        public void Write(OutputKind kind, ReadOnlySpan<char> streamId, ReadOnlySpan<byte> record)
        {
        }

        public void DeadLetter(in DeadLetter letter)
        {
        }
    }
}
