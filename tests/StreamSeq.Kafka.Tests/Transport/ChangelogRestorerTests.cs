using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Transport;
using static StreamSeq.Kafka.Tests.Embedded.EmbeddedKafkaTestKit;
using static StreamSeq.Kafka.Tests.Transport.ChangelogRecords;

namespace StreamSeq.Kafka.Tests.Transport;

/// <summary>
/// The restore rule on hand-written changelog partitions: a record counts when an offset marker of its partition
/// follows it (newest per stream wins); records after the newest marker never committed and are listed for re-writing.
/// </summary>
public sealed class ChangelogRestorerTests
{
    [Fact]
    public void Restore_CompactedPartitionWithOnlyTheNewestMarker_EveryStateBeforeItCounts()
    {
        // What the cleaner leaves of five transactions: each stream's last record, and the last marker.
        var restored = Restore(
            State("s1", "a", "t1"),
            State("s2", "b", "t2"),
            State("s4", null, "t4"),
            State("s3", "c", "t5"),
            Marker(0, 42, "t5"));

        Assert.Equal(42, restored.NextOffset);
        Assert.Equal(["s1=a", "s2=b", "s3=c"], Describe(restored.States));
        Assert.Equal(0, restored.Ignored);
        Assert.Empty(restored.Rewrites);
    }

    [Fact]
    public void Restore_RecordsAfterTheNewestMarker_IgnoredAndListedWithTheirCommittedState()
    {
        var restored = Restore(
            State("s1", "a", "t1"),
            State("s4", "d", "t1"),
            Marker(0, 10, "t1"),
            State("s1", "x", "t2"),
            State("s2", "y", "t2"),
            State("s4", null, "t2"),
            Marker(0, 20, "t2"),
            State("s2", "bad", "t3"),
            Marker(1, 99, "t3"), // another input partition's marker closes nothing here
            State("s3", "bad", "t3"),
            State("s4", "bad", "t3"),
            State("s2", "worse", "t3"));

        Assert.Equal(20, restored.NextOffset);
        Assert.Equal(["s1=x", "s2=y"], Describe(restored.States));
        Assert.Equal(4, restored.Ignored);
        Assert.Equal(["s2=y", "s3=(none)", "s4=(none)"], Describe(restored.Rewrites));
    }

    [Fact]
    public void Restore_StateBytesUnderTheMarkerKey_CloseNothingAndTheMarkerBeforeThemCounts()
    {
        // What an earlier version wrote when a record's 'stream' field spelled the marker key: a stream state under it.
        // Reading it as an offset failed every restore of the partition; it now closes nothing, like an aborted write.
        var marker = Marker(0, 10, "t1").Item1;
        var restored = Restore(
            State("s1", "a", "t1"),
            Marker(0, 10, "t1"),
            State("s1", "x", "t2"),
            (marker, Encoding.UTF8.GetBytes("{\"state\":\"not an offset\"}"), "t2"),
            (marker, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, "t2"));

        Assert.Equal(10, restored.NextOffset);
        Assert.Equal(["s1=a"], Describe(restored.States));
        Assert.Equal(2, restored.MalformedMarkers);
        Assert.Equal(["s1=a"], Describe(restored.Rewrites));

        var later = Restore(
            State("s1", "a", "t1"),
            (marker, Encoding.UTF8.GetBytes("not an offset"), "t1"),
            State("s1", "b", "t2"),
            Marker(0, 20, "t2"));

        Assert.Equal(20, later.NextOffset);
        Assert.Equal(["s1=b"], Describe(later.States));
        Assert.Equal(1, later.MalformedMarkers);
    }

    [Fact]
    public void Restore_NoMarkerAtAll_NothingCountsAndEveryStreamIsListed()
    {
        var restored = Restore(State("s1", "a", "t1"), State("s2", "b", "t1"));

        Assert.Null(restored.NextOffset);
        Assert.Empty(restored.States);
        Assert.Equal(["s1=(none)", "s2=(none)"], Describe(restored.Rewrites));
    }

    [Fact]
    public void Restore_FromAnOffsetAfterAMarker_ReadsOnlyWhatFollowsAndListsTombstonedStreamsAsDeleted()
    {
        var restored = Restore(
            3,
            State("s1", "a", "t1"),
            State("s2", "b", "t1"),
            Marker(0, 10, "t1"),
            State("s1", "x", "t2"),
            State("s2", null, "t2"),
            Marker(0, 20, "t2"),
            State("s3", "bad", "t3"));

        Assert.False(restored.StartedOver);
        Assert.Equal(3, restored.StartOffset);
        Assert.Equal(4, restored.Records);
        Assert.Equal(20, restored.NextOffset);
        Assert.Equal(5, restored.MarkerOffset);
        Assert.Equal(["s1=x"], Describe(restored.States));
        Assert.Equal(["s2"], restored.Deleted.Order(StringComparer.Ordinal));
        Assert.Equal(["s3=(none)"], Describe(restored.Rewrites));
    }

    [Fact]
    public void Restore_FromAnOffsetBeyondThePartitionsEnd_ReadsFromTheBeginningAndSaysSo()
    {
        // A checkpoint past the end: the topic was re-created since. Nothing local can be trusted.
        var restored = Restore(100, State("s1", "a", "t1"), Marker(0, 10, "t1"));

        Assert.True(restored.StartedOver);
        Assert.Equal(2, restored.Records);
        Assert.Equal(["s1=a"], Describe(restored.States));
    }

    [Fact]
    public void Restore_FromEveryCheckpointAStoreCouldHold_AppliedOntoThatStoreEqualsTheWholePartitionsRestore()
    {
        // The checkpoint rule: a store complete up to just after a marker, plus a restore from there (its states in, its
        // tombstones out), is what reading the whole partition gives. Aborted records (t3, t5) and a tombstone included.
        (byte[] Key, byte[]? Value, string Transaction)[] records =
        [
            State("s1", "a", "t1"), State("s2", "b", "t1"), Marker(0, 10, "t1"),
            State("s1", "c", "t2"), State("s3", "d", "t2"), Marker(0, 20, "t2"),
            State("s2", "bad", "t3"), State("s4", "bad", "t3"),
            State("s2", "b", "t4"), State("s4", null, "t4"), State("s3", null, "t4"), Marker(0, 30, "t4"),
            State("s1", "e", "t5"),
        ];
        using var cluster = StartCluster();
        var markerPositions = records.Select((r, i) => (r, i)).Where(x => ChangelogKeys.IsOffsetKey(x.r.Key)).Select(x => x.i + 1).ToList();
        foreach (var split in markerPositions)
        {
            var changelog = Unique("changelog");
            cluster.CreateTopic(changelog);
            var restorer = new ChangelogRestorer(KafkaClientDefaults.ChangelogRestoreConsumer(cluster.BootstrapServers), Patience);
            Produce(cluster, changelog, records[..split]);
            var prefix = restorer.Restore(changelog, Input, [0], CancellationToken.None)[0];
            var store = prefix.States;
            Produce(cluster, changelog, records[split..]);
            var tail = restorer.Restore(changelog, Input, [0], CancellationToken.None, new Dictionary<int, long> { [0] = split })[0];
            var whole = restorer.Restore(changelog, Input, [0], CancellationToken.None)[0];
            foreach (var id in tail.Deleted)
            {
                store.Remove(id);
            }

            foreach (var (id, value) in tail.States)
            {
                store[id] = value;
            }

            Assert.False(tail.StartedOver);
            Assert.Equal(Describe(whole.States), Describe(store));
            Assert.Equal(whole.NextOffset, tail.NextOffset ?? prefix.NextOffset); // no marker after the split: the checkpoint's
            Assert.Equal(prefix.MarkerOffset + 1, split);
            Assert.Equal(whole.Rewrites.Keys.Order(StringComparer.Ordinal), tail.Rewrites.Keys.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void Restore_KeysThatAreNoStreamId_SkippedCountedAndNeverOverwriteARealStream()
    {
        // U+FFFD is a valid stream id; a key that is not UTF-8 would decode to it leniently and overwrite its state.
        var replacement = Encoding.UTF8.GetBytes("\uFFFD");
        var restored = Restore(
            (replacement, Utf8("real"), "t1"),
            ([0xFF], Utf8("foreign"), "t1"),
            ([.. Enumerable.Repeat((byte)'a', 1025)], Utf8("too long"), "t1"),
            ([], Utf8("empty"), "t1"),
            State("s1", "a", "t1"),
            Marker(0, 7, "t1"));

        Assert.Equal(["s1=a", "\uFFFD=real"], Describe(restored.States));
        Assert.Equal(3, restored.InvalidKeys);
        Assert.Equal(1, restored.FirstInvalidKey?.Offset);
        Assert.Contains("not valid UTF-8", restored.FirstInvalidKey?.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Restore_MarkersOfAnotherInput_CloseNothingAndAreCountedWithTheFirstOnesKey()
    {
        // Another deployment (input "other") writing the same changelog, then this worker's own marker.
        var restored = Restore(
            State("s1", "a", "t1"),
            Marker(0, 5, "t1"),
            (ChangelogKeys.OffsetKey("other", 0), ChangelogKeys.OffsetValue(900), "x1"),
            State("s2", "b", "x1"),
            (ChangelogKeys.OffsetKey("other", 0), ChangelogKeys.OffsetValue(901), "x2"));

        Assert.Equal(5, restored.NextOffset);
        Assert.Equal(["s1=a"], Describe(restored.States));
        Assert.Equal(2, restored.ForeignMarkers);
        Assert.Equal((2L, "/offset/other/0"), restored.FirstForeignMarker);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Restore_IntoAStoreAsRead_SameStatesOffsetsAndRewritesAsCollectingThemAndOnlyTheTailHeld(bool fromAnOffset)
    {
        // Transactions of states and tombstones, markers of another partition and a malformed one, then 5,000 records
        // of a transaction that never committed: the newest marker is further back than the first window looked at.
        var rng = new Random(7);
        var records = new List<(byte[] Key, byte[]? Value, string Transaction)>();
        for (var t = 0; t < 30; t++)
        {
            for (var i = 0; i < 40; i++)
            {
                var stream = $"s{rng.Next(200)}";
                records.Add(State(stream, rng.Next(10) == 0 ? null : $"v{t}.{i}", $"t{t}"));
            }

            records.Add(t % 7 == 3 ? Marker(1, 1000 + t, $"t{t}") : Marker(0, 100 + t, $"t{t}"));
        }

        records.Add((ChangelogKeys.OffsetKey(Input, 0), "not an offset"u8.ToArray(), "t30"));
        for (var i = 0; i < 5000; i++)
        {
            records.Add(State($"s{rng.Next(300)}", rng.Next(10) == 0 ? null : $"late{i}", "t31"));
        }

        using var cluster = StartCluster();
        var changelog = Unique("changelog");
        cluster.CreateTopic(changelog);
        Produce(cluster, changelog, records);
        var restorer = new ChangelogRestorer(KafkaClientDefaults.ChangelogRestoreConsumer(cluster.BootstrapServers), Patience);
        Dictionary<int, long>? from = fromAnOffset ? new() { [0] = 400 } : null;
        var collected = restorer.Restore(changelog, Input, [0], CancellationToken.None, from)[0];

        var store = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        bool? clearedFirst = null;
        var direct = restorer.Restore(changelog, Input, [0], CancellationToken.None, from, (partition, fromTheBeginning) =>
        {
            Assert.Equal(0, partition);
            clearedFirst = fromTheBeginning;
            return (stream, state) =>
            {
                if (state.Length == 0)
                {
                    store.Remove(stream);
                }
                else
                {
                    store[stream] = state;
                }
            };
        })[0];

        Assert.Equal(!fromAnOffset, clearedFirst);
        Assert.True(direct.Direct);
        Assert.Equal(collected.NextOffset, direct.NextOffset);
        Assert.Equal(collected.MarkerOffset, direct.MarkerOffset);
        Assert.Equal(collected.Records, direct.Records);
        Assert.Equal(collected.Ignored, direct.Ignored);
        Assert.Equal(collected.MalformedMarkers, direct.MalformedMarkers);
        Assert.Equal(collected.ForeignMarkers, direct.ForeignMarkers);

        // What the (empty) store holds after the direct restore is what collecting gives: the states that count, without
        // the deleted streams.
        foreach (var (stream, state) in direct.States)
        {
            store[stream] = state;
        }

        Assert.Equal(Describe(collected.States), Describe(store));
        Assert.All(collected.Deleted, d => Assert.False(store.ContainsKey(d)));

        // The streams to re-write are the same; their committed state comes from the store when it was written there.
        Assert.Equal(collected.Rewrites.Keys.Order(StringComparer.Ordinal), direct.Rewrites.Keys.Order(StringComparer.Ordinal));
        foreach (var (stream, committed) in collected.Rewrites)
        {
            Assert.Equal(committed, direct.Rewrites[stream] ?? store.GetValueOrDefault(stream));
        }

        Assert.True(collected.MostHeld >= collected.States.Count, $"collected: {collected.MostHeld}");
        Assert.True(direct.MostHeld <= 300, $"direct: {direct.MostHeld}");
    }

    private static ChangelogRestorer.Result Restore(params (byte[] Key, byte[]? Value, string Transaction)[] records) => Restore(null, records);

    private static ChangelogRestorer.Result Restore(long? from, params (byte[] Key, byte[]? Value, string Transaction)[] records)
    {
        using var cluster = StartCluster();
        var changelog = Unique("changelog");
        cluster.CreateTopic(changelog);
        Produce(cluster, changelog, records);
        var restorer = new ChangelogRestorer(KafkaClientDefaults.ChangelogRestoreConsumer(cluster.BootstrapServers), Patience);
        return restorer.Restore(changelog, Input, [0], CancellationToken.None, from is long f ? new Dictionary<int, long> { [0] = f } : null)[0];
    }
}
