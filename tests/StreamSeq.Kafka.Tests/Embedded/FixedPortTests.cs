using System.Net;
using System.Net.Sockets;
using Confluent.Kafka;
using StreamSeq.Kafka.Embedded;

namespace StreamSeq.Kafka.Tests.Embedded;

/// <summary>The embedded cluster reached at ports chosen in advance (what <c>streamseq broker --port</c> uses).</summary>
public sealed class FixedPortTests
{
    [Fact]
    public void Start_ThreeBrokersAtChosenPorts_ClientsUseOnlyThosePorts()
    {
        var first = FreePorts(3);
        using var cluster = EmbeddedKafkaCluster.Start(3, first);
        var topic = EmbeddedKafkaTestKit.Unique("fixed");
        cluster.CreateTopic(topic, partitions: 3, replicationFactor: 1);

        Assert.Equal($"127.0.0.1:{first},127.0.0.1:{first + 1},127.0.0.1:{first + 2}", cluster.BootstrapServers);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = $"127.0.0.1:{first + 1}" }).SetLogHandler((_, _) => { }).Build();
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        Assert.Equal([first, first + 1, first + 2], metadata.Brokers.OrderBy(b => b.BrokerId).Select(b => b.Port));

        // Every partition leader is reached through its chosen port: a round trip over all partitions.
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = $"127.0.0.1:{first}" }).SetLogHandler((_, _) => { }).Build())
        {
            for (var p = 0; p < 3; p++)
            {
                producer.Produce(new TopicPartition(topic, p), new Message<string, string> { Key = $"k{p}", Value = $"v{p}" });
            }

            Assert.Equal(0, producer.Flush(EmbeddedKafkaTestKit.Patience));
        }

        var read = Enumerable.Range(0, 3).SelectMany(p => EmbeddedKafkaTestKit.ReadToEnd(cluster, topic, p).Records).Select(r => r.Message.Value).Order(StringComparer.Ordinal);
        Assert.Equal(["v0", "v1", "v2"], read);
    }

    [Fact]
    public void Start_PortInUse_FailsNamingThePort()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var e = Assert.Throws<InvalidOperationException>(() => EmbeddedKafkaCluster.Start(1, port));

        Assert.Contains($"127.0.0.1:{port}", e.Message, StringComparison.Ordinal);
    }

    /// <summary>The first of <paramref name="count"/> consecutive loopback ports that are free now.</summary>
    private static int FreePorts(int count)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var first = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            if (first + count - 1 <= IPEndPoint.MaxPort && Enumerable.Range(first, count).All(IsFree))
            {
                return first;
            }
        }

        throw new InvalidOperationException("no consecutive free ports found");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
