using System.Runtime.InteropServices;

namespace StreamSeq.Kafka.Native;

/// <summary>
/// Asks a broker for its cluster id (<c>rd_kafka_clusterid</c>, from a metadata request). Confluent.Kafka exposes the
/// id only through the Admin API's DescribeCluster, which the embedded broker does not answer (it names no controller).
/// </summary>
internal static class ClusterIdentity
{
    /// <summary>The cluster id, or null when the broker does not report one.</summary>
    /// <exception cref="InvalidOperationException">A setting is rejected, or no broker answered within <paramref name="timeout"/>.</exception>
    public static unsafe string? Of(string bootstrapServers, IEnumerable<KeyValuePair<string, string>> client, TimeSpan timeout)
    {
        KafkaNative.EnsureLoaded();
        byte* errorText = stackalloc byte[LibrdkafkaNative.ErrorTextSize];
        var conf = LibrdkafkaNative.ConfNew();
        try
        {
            foreach (var (name, value) in client.Prepend(new("bootstrap.servers", bootstrapServers)).Append(new("log_level", "0")))
            {
                if (LibrdkafkaNative.ConfSet(conf, name, value, errorText, LibrdkafkaNative.ErrorTextSize) != LibrdkafkaNative.ConfOk)
                {
                    throw new InvalidOperationException($"{name}: {LibrdkafkaNative.ReadErrorText(errorText)}");
                }
            }

            var kafka = LibrdkafkaNative.KafkaNew(LibrdkafkaNative.ProducerType, conf, errorText, LibrdkafkaNative.ErrorTextSize);
            if (kafka == IntPtr.Zero)
            {
                throw new InvalidOperationException(LibrdkafkaNative.ReadErrorText(errorText));
            }

            conf = IntPtr.Zero; // rd_kafka_new took ownership.
            try
            {
                var id = LibrdkafkaNative.ClusterId(kafka, (int)timeout.TotalMilliseconds);
                if (id == IntPtr.Zero)
                {
                    return null;
                }

                try
                {
                    return Marshal.PtrToStringUTF8(id);
                }
                finally
                {
                    LibrdkafkaNative.MemFree(kafka, id);
                }
            }
            finally
            {
                LibrdkafkaNative.KafkaDestroy(kafka);
            }
        }
        finally
        {
            if (conf != IntPtr.Zero)
            {
                LibrdkafkaNative.ConfDestroy(conf);
            }
        }
    }
}
