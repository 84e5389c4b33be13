using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace StreamSeq.Kafka.Native;

/// <summary>
/// The few librdkafka C functions StreamSeq calls itself (client handle life cycle and the mock cluster API of
/// <c>rdkafka_mock.h</c>, librdkafka 2.16). Resolved through <see cref="KafkaNative"/>; call
/// <see cref="KafkaNative.EnsureLoaded"/> before the first call.
/// </summary>
/// <remarks>
/// The variadic mock functions (<c>rd_kafka_mock_push_request_errors</c> and friends) are deliberately not bound:
/// calling a C variadic through a fixed signature is undefined; the <c>_array</c> variant is used instead.
/// </remarks>
internal static partial class LibrdkafkaNative
{
    /// <summary><c>RD_KAFKA_PRODUCER</c> in <c>rd_kafka_type_t</c>.</summary>
    public const int ProducerType = 0;

    /// <summary><c>RD_KAFKA_CONF_OK</c> in <c>rd_kafka_conf_res_t</c>.</summary>
    public const int ConfOk = 0;

    /// <summary>Size of the error text buffers passed to <see cref="ConfSet"/> and <see cref="KafkaNew"/>.</summary>
    public const int ErrorTextSize = 512;

    /// <summary>The NUL-terminated UTF-8 text librdkafka wrote into an error buffer of <see cref="ErrorTextSize"/> bytes.</summary>
    public static unsafe string ReadErrorText(byte* errorText)
    {
        var text = new ReadOnlySpan<byte>(errorText, ErrorTextSize);
        var end = text.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(end >= 0 ? text[..end] : text);
    }

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_version_str")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial IntPtr VersionString();

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_conf_new")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial IntPtr ConfNew();

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_conf_destroy")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void ConfDestroy(IntPtr conf);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_conf_set", StringMarshalling = StringMarshalling.Utf8)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static unsafe partial int ConfSet(IntPtr conf, string name, string value, byte* errorText, nuint errorTextSize);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_new")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static unsafe partial IntPtr KafkaNew(int type, IntPtr conf, byte* errorText, nuint errorTextSize);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_destroy")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void KafkaDestroy(IntPtr kafka);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_mock_cluster_new")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial IntPtr MockClusterNew(IntPtr kafka, int brokerCount);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_mock_cluster_destroy")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void MockClusterDestroy(IntPtr cluster);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_mock_cluster_bootstraps")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial IntPtr MockClusterBootstraps(MockClusterHandle cluster);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_mock_topic_create", StringMarshalling = StringMarshalling.Utf8)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int MockTopicCreate(MockClusterHandle cluster, string topic, int partitionCount, int replicationFactor);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_mock_group_initial_rebalance_delay_ms")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void MockGroupInitialRebalanceDelay(MockClusterHandle cluster, int delayMilliseconds);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_mock_broker_set_down")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int MockBrokerSetDown(MockClusterHandle cluster, int brokerId);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_mock_broker_set_up")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int MockBrokerSetUp(MockClusterHandle cluster, int brokerId);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_mock_broker_set_rtt")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int MockBrokerSetRoundTripTime(MockClusterHandle cluster, int brokerId, int roundTripMilliseconds);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_mock_push_request_errors_array")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static unsafe partial void MockPushRequestErrors(MockClusterHandle cluster, short apiKey, nuint count, int* errors);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_mock_clear_request_errors")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void MockClearRequestErrors(MockClusterHandle cluster, short apiKey);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_mock_partition_set_leader", StringMarshalling = StringMarshalling.Utf8)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int MockPartitionSetLeader(MockClusterHandle cluster, string topic, int partition, int brokerId);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_mock_coordinator_set", StringMarshalling = StringMarshalling.Utf8)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial int MockCoordinatorSet(MockClusterHandle cluster, string keyType, string key, int brokerId);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_mock_set_group_consumer_session_timeout_ms")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void MockSetConsumerGroupSessionTimeout(MockClusterHandle cluster, int sessionTimeoutMilliseconds);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_mock_set_group_consumer_heartbeat_interval_ms")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void MockSetConsumerGroupHeartbeatInterval(MockClusterHandle cluster, int heartbeatIntervalMilliseconds);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_mock_broker_set_host_port", StringMarshalling = StringMarshalling.Utf8)]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void MockBrokerSetHostPort(MockClusterHandle cluster, int brokerId, string host, int port);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_clusterid")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial IntPtr ClusterId(IntPtr kafka, int timeoutMilliseconds);

    [LibraryImport(KafkaNative.LibraryName, EntryPoint = "rd_kafka_mem_free")]
    [UnmanagedCallConv(CallConvs = [typeof(CallConvCdecl)])]
    public static partial void MemFree(IntPtr kafka, IntPtr pointer);
}
