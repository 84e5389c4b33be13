namespace StreamSeq.Processing.Alerts;

/// <summary>
/// Batching, pacing, retry and queue bounds of an <see cref="AlertDispatcher"/>. The defaults follow Prometheus's
/// Alertmanager client: batches of up to 64 alerts, a queue of 10,000 alerts that drops the oldest when full.
/// </summary>
public sealed class AlertDispatcherOptions
{
    /// <summary>Most alerts per request.</summary>
    public int MaxBatchSize { get; init; } = 64;

    /// <summary>Longest an alert waits for companions before its batch is sent (a full batch goes at once).</summary>
    public TimeSpan BatchInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Most requests per second, retries included; batches wait (in the queue) for their turn.</summary>
    public double MaxRequestsPerSecond { get; init; } = 10;

    /// <summary>Most alerts waiting; when full, the oldest waiting alert is dropped and counted.</summary>
    public int QueueCapacity { get; init; } = 10_000;

    /// <summary>Tries per batch when failures are transient (1: no retry).</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>Wait before the first retry; each later retry waits twice as long as the one before.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws when a value is out of range, naming it.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchSize, 1, nameof(MaxBatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(BatchInterval, TimeSpan.Zero, nameof(BatchInterval));
        if (!(MaxRequestsPerSecond > 0) || double.IsInfinity(MaxRequestsPerSecond))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRequestsPerSecond), MaxRequestsPerSecond, "must be a positive number.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(QueueCapacity, MaxBatchSize, nameof(QueueCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAttempts, 1, nameof(MaxAttempts));
        ArgumentOutOfRangeException.ThrowIfLessThan(RetryBackoff, TimeSpan.Zero, nameof(RetryBackoff));
    }
}
