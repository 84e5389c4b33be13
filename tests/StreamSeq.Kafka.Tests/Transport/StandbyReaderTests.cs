using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using StreamSeq.Kafka.Stores;
using StreamSeq.Kafka.Transport;
using static StreamSeq.Kafka.Tests.Embedded.EmbeddedKafkaTestKit;
using static StreamSeq.Kafka.Tests.Transport.ChangelogRecords;

namespace StreamSeq.Kafka.Tests.Transport;

/// <summary>The standby reader over TCP: tailing a partition not owned into its store, and handing the store over.</summary>
public sealed class StandbyReaderTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("streamseq-standby-reader-").FullName;

    [Fact]
    public void Release_StoreWhoseCheckpointIsPastThePartitionsEnd_RebuiltFromTheBeginningThenHandedOverClosed()
    {
        // A store left from a changelog topic of the same name that was re-created since: its checkpoint is past the end.
        using (var stale = PartitionStore.Open(directory))
        {
            stale.Stage("s9", "stale"u8);
            stale.Apply(new StoreCheckpoint(100, 5, Input));
        }

        using var cluster = StartCluster();
        var changelog = Unique("changelog");
        cluster.CreateTopic(changelog);
        cluster.CreateTopic(Input);
        Produce(cluster, changelog, [State("s1", "a", "t1"), Marker(0, 10, "t1"), State("s2", "b", "t2"), State("s1", null, "t2"), Marker(0, 20, "t2")]);
        var status = new WorkerStatus();
        using (var reader = new StandbyReader(KafkaClientDefaults.ChangelogRestoreConsumer(cluster.BootstrapServers), changelog, Input, _ => directory, status, NullLogger.Instance))
        {
            reader.Start();
            PumpUntil(() => status.Standby.GetValueOrDefault(0) == 5, () => Thread.Sleep(50), "the standby to reach the changelog's end");
            reader.Release([0], CancellationToken.None);
            Assert.Empty(status.Standby);
        }

        // Released, the store opens here (RocksDB refuses a second open in one process) and holds what a restore gives.
        using var store = PartitionStore.Open(directory);
        Assert.Equal(new StoreCheckpoint(5, 20, Input), store.ReadCheckpoint());
        Assert.False(store.TryRead("s9", out _));
        Assert.False(store.TryRead("s1", out _));
        Assert.True(store.TryRead("s2", out var s2));
        Assert.Equal("b", Encoding.UTF8.GetString(s2));
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);
}
