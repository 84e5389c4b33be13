using System.Runtime.InteropServices;

namespace StreamSeq.Kafka.Native;

/// <summary>
/// Owns an <c>rd_kafka_mock_cluster_t</c> and the <c>rd_kafka_t</c> it was created on; releasing it stops the mock
/// brokers (closing their listeners) and then destroys the client handle.
/// </summary>
internal sealed class MockClusterHandle : SafeHandle
{
    private IntPtr kafka;

    /// <summary>Creates an empty (invalid) handle; used by the interop marshaller.</summary>
    public MockClusterHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    /// <inheritdoc />
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>Takes ownership of a mock cluster and the client handle it lives on.</summary>
    public void Attach(IntPtr cluster, IntPtr kafkaHandle)
    {
        kafka = kafkaHandle;
        SetHandle(cluster);
    }

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        LibrdkafkaNative.MockClusterDestroy(handle);
        if (kafka != IntPtr.Zero)
        {
            LibrdkafkaNative.KafkaDestroy(kafka);
            kafka = IntPtr.Zero;
        }

        return true;
    }
}
