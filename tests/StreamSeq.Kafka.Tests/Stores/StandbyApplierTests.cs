using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Stores;
using StreamSeq.Kafka.Transport;
using static StreamSeq.Kafka.Tests.Embedded.EmbeddedKafkaTestKit;
using static StreamSeq.Kafka.Tests.Transport.ChangelogRecords;

namespace StreamSeq.Kafka.Tests.Stores;

/// <summary>
/// The standby applier tailing a changelog partition over TCP, against the restorer reading the whole partition: after
/// every record, what the store holds and its checkpoint are what a restore of everything written so far gives.
/// </summary>
public sealed class StandbyApplierTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("streamseq-standby-").FullName;

    [Fact]
    public void Add_AbortedAndCrashedRecordsAfterTheNewestMarker_StoreAfterEveryRecordEqualsTheRestoreOfEverythingSoFar()
    {
        // Aborted records between markers (t3, superseded by t4's re-writes before its marker), another input
        // partition's marker (closes nothing), a tombstone, and a crashed transaction after the newest marker (t5).
        (byte[] Key, byte[]? Value, string Transaction)[] records =
        [
            State("s1", "a", "t1"), State("s2", "b", "t1"), Marker(0, 10, "t1"),
            State("s1", "c", "t2"), State("s3", "d", "t2"), Marker(0, 20, "t2"),
            State("s2", "bad", "t3"), State("s4", "bad", "t3"), Marker(1, 99, "t3"),
            State("s2", "b", "t4"), State("s4", null, "t4"), State("s3", null, "t4"), State("s5", "f", "t4"), Marker(0, 30, "t4"),
            State("s1", "crashed", "t5"), State("s6", "crashed", "t5"), State("s5", null, "t5"),
        ];
        using var cluster = StartCluster();
        var changelog = Unique("changelog");
        cluster.CreateTopic(changelog);
        var restorer = new ChangelogRestorer(KafkaClientDefaults.ChangelogRestoreConsumer(cluster.BootstrapServers), Patience);
        using var tail = new ConsumerBuilder<byte[], byte[]>(KafkaClientDefaults.ChangelogRestoreConsumer(cluster.BootstrapServers)).SetLogHandler((_, _) => { }).Build();
        tail.Assign(new TopicPartitionOffset(changelog, 0, Offset.Beginning));
        var streams = records.Where(r => !ChangelogKeys.IsOffsetKey(r.Key)).Select(r => Encoding.UTF8.GetString(r.Key)).Distinct().ToList();
        using var store = PartitionStore.Open(directory);
        var applier = StandbyApplier.Open(store, Input, 0);
        Assert.Null(applier.Checkpoint);

        for (var i = 0; i < records.Length; i++)
        {
            Produce(cluster, changelog, [records[i]]);
            Feed(tail, applier, expectedOffset: i);
            applier.Flush();

            var whole = restorer.Restore(changelog, Input, [0], CancellationToken.None)[0];
            Assert.Equal(Describe(whole.States), Held(store, streams));
            Assert.Equal(whole.Rewrites.Count, applier.HeldBack);
            if (whole.MarkerOffset < 0)
            {
                Assert.Null(store.ReadCheckpoint());
            }
            else
            {
                Assert.Equal(new StoreCheckpoint(whole.MarkerOffset + 1, whole.NextOffset!.Value, Input), store.ReadCheckpoint());
            }
        }

        // The crashed transaction's records stay out: the store is what the restore gives up to t4's marker.
        Assert.Equal(["s1=c", "s2=b", "s5=f"], Held(store, streams));
        Assert.Equal(3, applier.HeldBack);

        // The hand-over: a restore from the standby's checkpoint reads only the held-back tail and lists the same streams
        // to re-write, with the committed states the store holds (s1) or none (s6; s5 was deleted by no committed record).
        var handOver = restorer.Restore(changelog, Input, [0], CancellationToken.None, new Dictionary<int, long> { [0] = store.ReadCheckpoint()!.ChangelogOffset })[0];
        Assert.False(handOver.StartedOver);
        Assert.Equal(3, handOver.Records);
        Assert.Equal(["s1", "s5", "s6"], handOver.Rewrites.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Open_StoreWithACheckpointOfAnotherInputTopic_IsClearedAndReadFromTheBeginning()
    {
        using var store = PartitionStore.Open(directory);
        store.Stage("s1", "old"u8);
        store.Apply(new StoreCheckpoint(42, 7, "another-input"));

        var applier = StandbyApplier.Open(store, Input, 0);

        Assert.Null(applier.Checkpoint);
        Assert.Null(store.ReadCheckpoint());
        Assert.False(store.TryRead("s1", out _));
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Reads the partition to its end into the applier, checking that exactly the next record arrives.</summary>
    private static void Feed(IConsumer<byte[], byte[]> consumer, StandbyApplier applier, long expectedOffset)
    {
        var read = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < Patience)
        {
            var message = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (message is null)
            {
                continue;
            }

            if (message.IsPartitionEOF)
            {
                if (read > 0)
                {
                    applier.AtEnd(message.Offset.Value);
                    return;
                }

                continue;
            }

            Assert.Equal(expectedOffset, message.Offset.Value);
            applier.Add(message.Offset.Value, message.Message.Key, message.Message.Value);
            read++;
        }

        throw new TimeoutException($"record {expectedOffset} did not arrive.");
    }

    private static List<string> Held(PartitionStore store, List<string> streams)
    {
        var held = new Dictionary<string, byte[]>();
        foreach (var stream in streams)
        {
            if (store.TryRead(stream, out var bytes))
            {
                held[stream] = bytes;
            }
        }

        return Describe(held);
    }
}
