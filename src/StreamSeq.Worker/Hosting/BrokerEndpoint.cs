using Microsoft.Extensions.Options;
using StreamSeq.Kafka.Embedded;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// The broker the worker talks to: the configured cluster, or, with no bootstrap servers configured, the embedded
/// Kafka-protocol broker started in this process with every topic the worker needs.
/// </summary>
public sealed partial class BrokerEndpoint : IDisposable
{
    private readonly EmbeddedKafkaCluster? cluster;

    /// <summary>Starts the embedded broker when no bootstrap servers are configured.</summary>
    public BrokerEndpoint(IOptions<KafkaTransportOptions> options, ILogger<BrokerEndpoint> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var kafka = options.Value;
        if (!string.IsNullOrWhiteSpace(kafka.BootstrapServers))
        {
            BootstrapServers = kafka.BootstrapServers;
            return;
        }

        cluster = EmbeddedKafkaCluster.Start(1);
        foreach (var topic in TopicProvisioner.TopicNames(kafka))
        {
            cluster.CreateTopic(topic, kafka.TopicPartitions, 1);
        }

        BootstrapServers = cluster.BootstrapServers;
        IsEmbedded = true;
        LogEmbedded(logger, BootstrapServers, kafka.TopicPartitions);
    }

    /// <summary>Broker list to connect to.</summary>
    public string BootstrapServers { get; }

    /// <summary>True when the embedded broker runs in this process.</summary>
    public bool IsEmbedded { get; }

    /// <summary>The embedded cluster (null against a real cluster).</summary>
    public EmbeddedKafkaCluster? Cluster => cluster;

    /// <inheritdoc />
    public void Dispose() => cluster?.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "No StreamSeq:Kafka:BootstrapServers configured: started the embedded Kafka-protocol broker at {Bootstrap} with {Partitions} partitions per topic")]
    private static partial void LogEmbedded(ILogger logger, string bootstrap, int partitions);
}
