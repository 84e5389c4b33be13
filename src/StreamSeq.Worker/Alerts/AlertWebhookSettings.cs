using System.ComponentModel.DataAnnotations;

namespace StreamSeq.Worker.Alerts;

/// <summary>
/// An Alertmanager webhook for anomaly alerts (<c>StreamSeq:Alerts:Webhook</c>); off unless <see cref="Url"/> is set.
/// Defaults follow Prometheus's Alertmanager client.
/// </summary>
public sealed class AlertWebhookSettings
{
    /// <summary>Where to post: <c>http://alertmanager:9093/api/v2/alerts</c>, or any endpoint taking Alertmanager's format.</summary>
    public Uri? Url { get; set; }

    /// <summary>Most alerts per request.</summary>
    [Range(1, 10_000)]
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>Longest an alert waits for companions before its batch is sent.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan BatchInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most requests per second, retries included.</summary>
    [Range(0.01, 10_000)]
    public double MaxRequestsPerSecond { get; set; } = 10;

    /// <summary>Most alerts waiting to be sent; when full the oldest is dropped and counted.</summary>
    [Range(1, 10_000_000)]
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>Tries per batch when the receiver fails transiently (down, slow, 5xx, 429).</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Wait before the first retry; later retries wait twice as long each time.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one request may take.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an alert stays firing in Alertmanager unless a later one with the same labels extends it.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan ResolveAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Labels added to every alert (for example <c>severity</c>, <c>cluster</c>).</summary>
    public Dictionary<string, string> Labels { get; set; } = [];

    /// <summary>The worker's address as users reach it; alerts then link to their stream's dashboard page.</summary>
    public Uri? GeneratorUrl { get; set; }
}
