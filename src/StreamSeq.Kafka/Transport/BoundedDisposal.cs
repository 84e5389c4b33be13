namespace StreamSeq.Kafka.Transport;

/// <summary>
/// Disposes a Kafka client within a time bound. librdkafka's handle destruction waits for its internal threads, and
/// some librdkafka releases can wait forever for a broker thread after the broker went away and came back
/// (confluentinc/librdkafka#4674). By the time a client is disposed its transactions are committed or aborted and
/// its consumer has left the group, so there is nothing left to lose: a destruction that outlives the bound is left
/// to finish (or to die with the process) on its own thread, and shutdown goes on.
/// </summary>
internal static class BoundedDisposal
{
    /// <summary>How long a client's destruction may take before it is abandoned.</summary>
    public static readonly TimeSpan DefaultBound = TimeSpan.FromSeconds(15);

    /// <summary>Disposes <paramref name="client"/>; returns false when it did not finish within <paramref name="bound"/>.</summary>
    public static bool Dispose(IDisposable? client, TimeSpan bound)
    {
        if (client is null)
        {
            return true;
        }

        var thread = new Thread(client.Dispose) { IsBackground = true, Name = "streamseq-kafka-dispose" };
        thread.Start();
        return thread.Join(bound);
    }
}
