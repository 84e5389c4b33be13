namespace StreamSeq.Worker.Hosting;

/// <summary>How long the worker's graceful stop takes, and so how long an orchestrator must let it run.</summary>
public static class WorkerShutdown
{
    /// <summary>
    /// The host's shutdown timeout: how long a stop (SIGTERM, Ctrl+C) waits for the processing loop to commit its open
    /// transaction (which writes the changelog too) and leave the group, and for the alert sinks to send the last
    /// transaction's alerts.
    /// </summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The shortest grace period an orchestrator may give a stopping worker (Kubernetes'
    /// <c>terminationGracePeriodSeconds</c>): <see cref="Timeout"/> and 5 s more to close the Kafka clients and the state
    /// stores and exit. A shorter one kills the process while it may still be committing, so the partitions' next owner
    /// waits for the transaction to time out and processes its records again.
    /// </summary>
    public static readonly TimeSpan MinimumGracePeriod = Timeout + TimeSpan.FromSeconds(5);
}
