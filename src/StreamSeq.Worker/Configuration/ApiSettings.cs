using System.ComponentModel.DataAnnotations;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.Worker.Configuration;

/// <summary>
/// The worker's JSON API (section <c>StreamSeq:Api</c>): how long <c>/api/streams/{id}</c> waits for the processing
/// loop, which answers between records, and how many such requests may wait at once.
/// </summary>
public sealed class ApiSettings
{
    /// <summary>The configuration section.</summary>
    public const string Section = "StreamSeq:Api";

    /// <summary>
    /// The longest wait of <c>/api/streams/{id}</c> for the processing loop. A loop held up (restoring a changelog, a
    /// rebalance, a commit waiting for the broker) does not answer meanwhile; the request then gets 503 with
    /// <c>Retry-After</c> and the reason instead of waiting.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Stream queries waiting for the processing loop at once (those that timed out count until the loop takes them);
    /// beyond it a request gets 503 at once, so a flood of requests cannot grow the queue.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxPendingQueries { get; set; } = KafkaStreamWorker.DefaultMaxPendingQueries;
}
