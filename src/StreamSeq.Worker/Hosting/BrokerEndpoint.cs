using StreamSeq.Kafka.Embedded;
using StreamSeq.Worker.Configuration;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// The broker the worker talks to: the configured cluster, or, in embedded mode (<see cref="BrokerSelection"/>), the
/// embedded Kafka-protocol broker started in this process with every topic the worker needs.
/// </summary>
public sealed partial class BrokerEndpoint : IDisposable
{
    private readonly EmbeddedKafkaCluster? cluster;

    /// <summary>Starts the embedded broker in embedded mode.</summary>
    public BrokerEndpoint(WorkerSettings settings, ILogger<BrokerEndpoint> logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var kafka = settings.Kafka;
        if (!settings.UsesEmbeddedBroker)
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Embedded mode: started the embedded Kafka-protocol broker at {Bootstrap} with {Partitions} partitions per topic")]
    private static partial void LogEmbedded(ILogger logger, string bootstrap, int partitions);
}
