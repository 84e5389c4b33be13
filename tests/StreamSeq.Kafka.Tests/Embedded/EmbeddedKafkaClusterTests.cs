using Confluent.Kafka;
using StreamSeq.Kafka.Embedded;

namespace StreamSeq.Kafka.Tests.Embedded;

public sealed class EmbeddedKafkaClusterTests
{
    [Fact]
    public void Start_ZeroBrokers_ThrowsArgumentOutOfRange() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddedKafkaCluster.Start(0));

    [Fact]
    public void Start_ThreeBrokers_BootstrapListsThreeLoopbackListeners()
    {
        using var cluster = EmbeddedKafkaCluster.Start(3);

        var servers = cluster.BootstrapServers.Split(',');
        Assert.Equal(3, servers.Length);
        Assert.All(servers, s => Assert.StartsWith("127.0.0.1:", s, StringComparison.Ordinal));
        Assert.Equal(3, cluster.BrokerCount);
    }

    [Fact]
    public void CreateTopic_FourPartitionsReplicated_MetadataShowsPartitionsAndBrokers()
    {
        using var cluster = EmbeddedKafkaCluster.Start(3);
        var topic = EmbeddedKafkaTestKit.Unique("meta");

        cluster.CreateTopic(topic, partitions: 4, replicationFactor: 3);

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        Assert.Equal(3, metadata.Brokers.Count);
        var topicMetadata = Assert.Single(metadata.Topics);
        Assert.Equal(ErrorCode.NoError, topicMetadata.Error.Code);
        Assert.Equal(4, topicMetadata.Partitions.Count);
        Assert.All(topicMetadata.Partitions, p => Assert.Equal(3, p.Replicas.Length));
    }

    [Fact]
    public void SetPartitionLeader_ToBrokerTwo_MetadataReportsTheNewLeader()
    {
        using var cluster = EmbeddedKafkaCluster.Start(3);
        var topic = EmbeddedKafkaTestKit.Unique("leader");
        cluster.CreateTopic(topic, partitions: 1, replicationFactor: 3);

        cluster.SetPartitionLeader(topic, 0, 2);

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).Build();
        var partition = Assert.Single(Assert.Single(admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics).Partitions);
        Assert.Equal(2, partition.Leader);
    }

    [Fact]
    public void CreateTopic_ReplicationAboveBrokerCount_ThrowsArgumentOutOfRange()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);

        Assert.Throws<ArgumentOutOfRangeException>(() => cluster.CreateTopic("too-many-replicas", 1, 2));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(-2)]
    public void SetBrokerDown_UnknownBroker_ThrowsArgumentOutOfRange(int brokerId)
    {
        using var cluster = EmbeddedKafkaCluster.Start(3);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => cluster.SetBrokerDown(brokerId));
        Assert.Equal("brokerId", error.ParamName);
    }

    [Fact]
    public void Dispose_Twice_DoesNotThrowAndLaterCallsReportDisposal()
    {
        var cluster = EmbeddedKafkaCluster.Start();
        cluster.Dispose();
        cluster.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cluster.CreateTopic("after-dispose"));
    }

    [Fact]
    public void Dispose_WhileAProducerIsConnected_ProducerSeesTheBrokerGo()
    {
        var cluster = EmbeddedKafkaCluster.Start();
        var topic = EmbeddedKafkaTestKit.Unique("gone");
        cluster.CreateTopic(topic);
        var errors = new List<Error>();
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, MessageTimeoutMs = 2000 })
            .SetErrorHandler((_, e) => { lock (errors) { errors.Add(e); } })
            .SetLogHandler((_, _) => { })
            .Build();
        producer.Produce(topic, new Message<Null, string> { Value = "before" });
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(10)));

        cluster.Dispose();
        DeliveryReport<Null, string>? report = null;
        producer.Produce(topic, new Message<Null, string> { Value = "after" }, r => report = r);
        producer.Flush(TimeSpan.FromSeconds(10));

        Assert.NotNull(report);
        Assert.NotEqual(ErrorCode.NoError, report.Error.Code);
    }
}
