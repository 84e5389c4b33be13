using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Confluent.Kafka;
using StreamSeq.Kafka.Native;

namespace StreamSeq.Kafka.Embedded;

/// <summary>
/// An in-process Kafka cluster for development and tests: librdkafka's mock cluster, which speaks the real Kafka
/// protocol on loopback TCP listeners, so unmodified Confluent.Kafka clients (in this process or in others) connect
/// to <see cref="BootstrapServers"/> as to any broker.
/// </summary>
/// <remarks>
/// <para>
/// Supported by the mock: produce (idempotent and transactional), fetch with read_committed, consumer groups (classic
/// eager and cooperative protocols and <c>group.protocol=consumer</c>), offset commits, headers and timestamps.
/// Not supported: the Admin API (create topics with <see cref="CreateTopic"/> instead), storing offsets sent with
/// <c>SendOffsetsToTransaction</c>, and retention beyond the newest few MiB of each partition (older data is dropped
/// silently). See docs/kafka-embedded.md for what was measured.
/// </para>
/// <para>
/// Broker ids run from 1 to <see cref="BrokerCount"/>; <see cref="AllBrokers"/> addresses every broker at once. All
/// members are thread-safe. Disposing closes the listeners; connected clients then see transport errors.
/// </para>
/// </remarks>
public sealed class EmbeddedKafkaCluster : IDisposable
{
    /// <summary>Broker id that addresses every broker of the cluster.</summary>
    public const int AllBrokers = -1;

    /// <summary>The host every broker listens on.</summary>
    public const string Host = "127.0.0.1";

    private readonly MockClusterHandle cluster;
    private readonly List<LoopbackForwarder> forwarders = [];

    private EmbeddedKafkaCluster(MockClusterHandle cluster, int brokerCount, string bootstrapServers)
    {
        this.cluster = cluster;
        BrokerCount = brokerCount;
        BootstrapServers = bootstrapServers;
    }

    /// <summary>Comma-separated <c>host:port</c> list of the brokers, for the clients' <c>bootstrap.servers</c>.</summary>
    public string BootstrapServers { get; private set; }

    /// <summary>Number of brokers (ids 1..<see cref="BrokerCount"/>).</summary>
    public int BrokerCount { get; }

    /// <summary>Starts a mock cluster with <paramref name="brokerCount"/> brokers listening on 127.0.0.1.</summary>
    /// <param name="brokerCount">Number of brokers, at least 1.</param>
    /// <returns>The running cluster; dispose it to stop the brokers.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="brokerCount"/> is below 1.</exception>
    /// <exception cref="InvalidOperationException">librdkafka refused to create the handle or the cluster.</exception>
    public static EmbeddedKafkaCluster Start(int brokerCount = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokerCount, 1);
        KafkaNative.EnsureLoaded();

        var kafka = CreateHostHandle();
        var mock = LibrdkafkaNative.MockClusterNew(kafka, brokerCount);
        if (mock == IntPtr.Zero)
        {
            LibrdkafkaNative.KafkaDestroy(kafka);
            throw new InvalidOperationException($"rd_kafka_mock_cluster_new failed for {brokerCount} broker(s).");
        }

        var handle = new MockClusterHandle();
        handle.Attach(mock, kafka);
        var bootstrap = Marshal.PtrToStringUTF8(LibrdkafkaNative.MockClusterBootstraps(handle))
            ?? throw new InvalidOperationException("rd_kafka_mock_cluster_bootstraps returned no address.");
        return new EmbeddedKafkaCluster(handle, brokerCount, bootstrap);
    }

    /// <summary>
    /// Starts a mock cluster whose brokers are reached at fixed ports: broker <c>i</c> (1-based) at
    /// <c>127.0.0.1:<paramref name="firstPort"/> + i - 1</c>, so that separate processes can be pointed at an address
    /// known in advance.
    /// </summary>
    /// <remarks>
    /// The mock's own listeners always take random ports. Each chosen port is a relay to its broker's listener, and the
    /// broker advertises the chosen port in its metadata, so clients only ever connect through the chosen ports.
    /// </remarks>
    /// <param name="brokerCount">Number of brokers, at least 1.</param>
    /// <param name="firstPort">Port of broker 1, 1..65535 (the others follow).</param>
    /// <returns>The running cluster; dispose it to stop the brokers and release the ports.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The ports do not fit in 1..65535.</exception>
    /// <exception cref="InvalidOperationException">A port is in use or cannot be opened (the message names it).</exception>
    public static EmbeddedKafkaCluster Start(int brokerCount, int firstPort)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokerCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(firstPort, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstPort, IPEndPoint.MaxPort - brokerCount + 1);
        var cluster = Start(brokerCount);
        try
        {
            var listeners = BrokerPorts(cluster.BootstrapServers, brokerCount);
            var addresses = new List<string>();
            for (var id = 1; id <= brokerCount; id++)
            {
                var port = firstPort + id - 1;
                try
                {
                    cluster.forwarders.Add(new LoopbackForwarder(port, listeners[id]));
                }
                catch (SocketException e)
                {
                    throw new InvalidOperationException($"cannot listen on {Host}:{port}: {e.Message}", e);
                }

                LibrdkafkaNative.MockBrokerSetHostPort(cluster.cluster, id, Host, port);
                addresses.Add(string.Create(CultureInfo.InvariantCulture, $"{Host}:{port}"));
            }

            cluster.BootstrapServers = string.Join(",", addresses);
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>Creates a topic (the mock has no Admin API; clients' CreateTopics requests time out).</summary>
    /// <param name="name">Topic name.</param>
    /// <param name="partitions">Partition count, at least 1.</param>
    /// <param name="replicationFactor">Replicas per partition, 1..<see cref="BrokerCount"/>.</param>
    /// <exception cref="KafkaException">The mock rejected the topic (the error names the reason).</exception>
    public void CreateTopic(string name, int partitions = 1, int replicationFactor = 1)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicationFactor, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(replicationFactor, BrokerCount);
        ThrowOnError(LibrdkafkaNative.MockTopicCreate(cluster, name, partitions, replicationFactor), $"creating topic '{name}'");
    }

    /// <summary>
    /// Disconnects a broker and refuses new connections to it, like a crashed broker; partition leadership does not
    /// move (use <see cref="SetPartitionLeader"/> for that).
    /// </summary>
    /// <param name="brokerId">Broker id (1-based) or <see cref="AllBrokers"/>.</param>
    public void SetBrokerDown(int brokerId)
    {
        ValidateBroker(brokerId);
        ThrowOnError(LibrdkafkaNative.MockBrokerSetDown(cluster, brokerId), $"setting broker {brokerId} down");
    }

    /// <summary>Lets a broker accept connections again after <see cref="SetBrokerDown"/>.</summary>
    /// <param name="brokerId">Broker id (1-based) or <see cref="AllBrokers"/>.</param>
    public void SetBrokerUp(int brokerId)
    {
        ValidateBroker(brokerId);
        ThrowOnError(LibrdkafkaNative.MockBrokerSetUp(cluster, brokerId), $"setting broker {brokerId} up");
    }

    /// <summary>Delays every response of a broker, to emulate a slow network or an overloaded broker.</summary>
    /// <param name="brokerId">Broker id (1-based) or <see cref="AllBrokers"/>.</param>
    /// <param name="roundTripTime">Added response delay (millisecond resolution); zero removes it.</param>
    public void SetBrokerRoundTripTime(int brokerId, TimeSpan roundTripTime)
    {
        ValidateBroker(brokerId);
        ThrowOnError(
            LibrdkafkaNative.MockBrokerSetRoundTripTime(cluster, brokerId, ToMilliseconds(roundTripTime, nameof(roundTripTime))),
            $"setting the round-trip time of broker {brokerId}");
    }

    /// <summary>
    /// Makes the next requests of type <paramref name="apiKey"/> (to any broker) fail, one error code per request in
    /// order. <see cref="ErrorCode.Local_Transport"/> makes the broker drop the connection instead of answering.
    /// </summary>
    /// <param name="apiKey">Request type to fail.</param>
    /// <param name="errorCodes">Error codes returned to the following requests, first one first.</param>
    public unsafe void PushRequestErrors(KafkaApiKey apiKey, params ReadOnlySpan<ErrorCode> errorCodes)
    {
        if (errorCodes.IsEmpty)
        {
            return;
        }

        fixed (ErrorCode* codes = errorCodes)
        {
            LibrdkafkaNative.MockPushRequestErrors(cluster, (short)apiKey, (nuint)errorCodes.Length, (int*)codes);
        }
    }

    /// <summary>Drops the errors still queued by <see cref="PushRequestErrors"/> for <paramref name="apiKey"/>.</summary>
    /// <param name="apiKey">Request type whose queued errors are cleared.</param>
    public void ClearRequestErrors(KafkaApiKey apiKey) =>
        LibrdkafkaNative.MockClearRequestErrors(cluster, (short)apiKey);

    /// <summary>
    /// Sets the brokers' <c>group.initial.rebalance.delay.ms</c>: how long a new (empty) classic group waits for more
    /// members before its first assignment. The mock's default is 3 s, like Kafka's; zero makes first joins immediate.
    /// </summary>
    /// <param name="delay">The delay (millisecond resolution), zero or more.</param>
    public void SetInitialRebalanceDelay(TimeSpan delay) =>
        LibrdkafkaNative.MockGroupInitialRebalanceDelay(cluster, ToMilliseconds(delay, nameof(delay)));

    /// <summary>
    /// Sets the brokers' <c>group.consumer.session.timeout.ms</c> for <c>group.protocol=consumer</c> (KIP-848) groups:
    /// how long a silent member keeps its partitions. With that protocol the session timeout is a broker setting;
    /// the client's <c>session.timeout.ms</c> is not used.
    /// </summary>
    /// <param name="sessionTimeout">The timeout (millisecond resolution), positive.</param>
    public void SetConsumerGroupSessionTimeout(TimeSpan sessionTimeout) =>
        LibrdkafkaNative.MockSetConsumerGroupSessionTimeout(cluster, ToPositiveMilliseconds(sessionTimeout, nameof(sessionTimeout)));

    /// <summary>
    /// Sets the brokers' <c>group.consumer.heartbeat.interval.ms</c> for <c>group.protocol=consumer</c> (KIP-848)
    /// groups. Members learn about assignment changes on their next heartbeat, so this bounds how fast partitions
    /// move to a joining member.
    /// </summary>
    /// <param name="heartbeatInterval">The interval (millisecond resolution), positive.</param>
    public void SetConsumerGroupHeartbeatInterval(TimeSpan heartbeatInterval) =>
        LibrdkafkaNative.MockSetConsumerGroupHeartbeatInterval(cluster, ToPositiveMilliseconds(heartbeatInterval, nameof(heartbeatInterval)));

    /// <summary>Moves the leadership of one partition (creating the topic if it does not exist).</summary>
    /// <param name="topic">Topic name.</param>
    /// <param name="partition">Partition number.</param>
    /// <param name="brokerId">New leader's broker id, or -1 for no leader.</param>
    public void SetPartitionLeader(string topic, int partition, int brokerId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        ArgumentOutOfRangeException.ThrowIfNegative(partition);
        ValidateBroker(brokerId);
        ThrowOnError(
            LibrdkafkaNative.MockPartitionSetLeader(cluster, topic, partition, brokerId),
            $"moving the leader of {topic}[{partition}] to broker {brokerId}");
    }

    /// <summary>Pins the transaction coordinator of <paramref name="transactionalId"/> to a broker.</summary>
    /// <param name="transactionalId">The producer's <c>transactional.id</c>.</param>
    /// <param name="brokerId">Coordinator broker id (1-based).</param>
    public void SetTransactionCoordinator(string transactionalId, int brokerId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(transactionalId);
        ValidateBroker(brokerId);
        ThrowOnError(
            LibrdkafkaNative.MockCoordinatorSet(cluster, "transaction", transactionalId, brokerId),
            $"pinning the transaction coordinator of '{transactionalId}' to broker {brokerId}");
    }

    /// <summary>Pins the group coordinator of <paramref name="groupId"/> to a broker.</summary>
    /// <param name="groupId">The consumers' <c>group.id</c>.</param>
    /// <param name="brokerId">Coordinator broker id (1-based).</param>
    public void SetGroupCoordinator(string groupId, int brokerId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(groupId);
        ValidateBroker(brokerId);
        ThrowOnError(
            LibrdkafkaNative.MockCoordinatorSet(cluster, "group", groupId, brokerId),
            $"pinning the group coordinator of '{groupId}' to broker {brokerId}");
    }

    /// <summary>Stops the brokers and releases the native handles (and the chosen ports).</summary>
    public void Dispose()
    {
        foreach (var forwarder in forwarders)
        {
            forwarder.Dispose();
        }

        cluster.Dispose();
    }

    /// <summary>Each broker's own listening port, by broker id, from the cluster's metadata.</summary>
    private static Dictionary<int, int> BrokerPorts(string bootstrapServers, int brokerCount)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).SetLogHandler((_, _) => { }).Build();
        var brokers = admin.GetMetadata(TimeSpan.FromSeconds(10)).Brokers.ToDictionary(b => b.BrokerId, b => b.Port);
        return brokers.Count == brokerCount
            ? brokers
            : throw new InvalidOperationException($"the embedded cluster reported {brokers.Count} of its {brokerCount} brokers.");
    }

    private static unsafe IntPtr CreateHostHandle()
    {
        var conf = LibrdkafkaNative.ConfNew();
        byte* errorText = stackalloc byte[LibrdkafkaNative.ErrorTextSize];
        try
        {
            // The host handle never talks to a broker; it only owns the mock cluster's threads. Keep its log quiet
            // (warnings and worse) and give it a recognisable name in broker logs.
            SetConf(conf, "client.id", "streamseq-embedded-kafka", errorText);
            SetConf(conf, "log_level", "4", errorText);

            var kafka = LibrdkafkaNative.KafkaNew(LibrdkafkaNative.ProducerType, conf, errorText, LibrdkafkaNative.ErrorTextSize);
            if (kafka == IntPtr.Zero)
            {
                throw new InvalidOperationException($"rd_kafka_new failed: {LibrdkafkaNative.ReadErrorText(errorText)}");
            }

            conf = IntPtr.Zero; // rd_kafka_new took ownership.
            return kafka;
        }
        finally
        {
            if (conf != IntPtr.Zero)
            {
                LibrdkafkaNative.ConfDestroy(conf);
            }
        }
    }

    private static unsafe void SetConf(IntPtr conf, string name, string value, byte* errorText)
    {
        if (LibrdkafkaNative.ConfSet(conf, name, value, errorText, LibrdkafkaNative.ErrorTextSize) != LibrdkafkaNative.ConfOk)
        {
            throw new InvalidOperationException($"rd_kafka_conf_set {name}={value} failed: {LibrdkafkaNative.ReadErrorText(errorText)}");
        }
    }

    private static int ToMilliseconds(TimeSpan value, string parameterName)
    {
        if (value < TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(
                parameterName,
                value,
                string.Create(CultureInfo.InvariantCulture, $"{parameterName} must be between 0 and {int.MaxValue} ms."));
        }

        return (int)value.TotalMilliseconds;
    }

    private static int ToPositiveMilliseconds(TimeSpan value, string parameterName)
    {
        var milliseconds = ToMilliseconds(value, parameterName);
        if (milliseconds < 1)
        {
            throw new ArgumentOutOfRangeException(parameterName, value, $"{parameterName} must be at least 1 ms.");
        }

        return milliseconds;
    }

    private static void ThrowOnError(int errorCode, string action)
    {
        if (errorCode != 0)
        {
            var code = (ErrorCode)errorCode;
            throw new KafkaException(new Error(code, $"Embedded Kafka: {action} failed: {code}."));
        }
    }

    private void ValidateBroker(int brokerId)
    {
        if (brokerId != AllBrokers && (brokerId < 1 || brokerId > BrokerCount))
        {
            throw new ArgumentOutOfRangeException(
                nameof(brokerId),
                brokerId,
                string.Create(CultureInfo.InvariantCulture, $"Broker ids run from 1 to {BrokerCount}, or {AllBrokers} for all."));
        }
    }
}
