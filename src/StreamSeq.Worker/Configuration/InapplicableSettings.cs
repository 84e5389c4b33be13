using StreamSeq.Kafka.Transport;
using StreamSeq.Worker.Alerts;

namespace StreamSeq.Worker.Configuration;

/// <summary>
/// Settings that are valid on their own but that another setting makes meaningless, so the worker would start and
/// silently not do what they ask: a live-stream cap with the disk store (which has none), disk-store settings with the
/// memory store, webhook settings without a webhook, a route by header value when no header is read. Each is a problem
/// naming the setting and the one that cancels it.
/// </summary>
/// <remarks>
/// A setting counts as given when a configuration source carries a value for it; defaults in the code never count.
/// </remarks>
public static class InapplicableSettings
{
    /// <summary>The problems, one line each.</summary>
    public static IReadOnlyList<string> Find(IConfiguration configuration, ProcessingSettings processing, KafkaTransportOptions kafka, AlertSettings alerts)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(processing);
        ArgumentNullException.ThrowIfNull(kafka);
        ArgumentNullException.ThrowIfNull(alerts);
        var problems = new List<string>();
        var store = $"{ProcessingSettings.Section}:{nameof(ProcessingSettings.StateStore)}";
        var diskStore = string.Equals(processing.StateStore, "rocksdb", StringComparison.OrdinalIgnoreCase);
        if (diskStore && processing.MaxLiveStreams > 0)
        {
            problems.Add($"{ProcessingSettings.Section}:{nameof(ProcessingSettings.MaxLiveStreams)}: applies to {store}=memory only, and {store} is rocksdb (the disk store bounds its memory with {ProcessingSettings.Section}:{nameof(ProcessingSettings.CacheBytes)}); got {processing.MaxLiveStreams}.");
        }

        if (!diskStore)
        {
            foreach (var name in new[] { nameof(ProcessingSettings.StateDirectory), nameof(ProcessingSettings.CacheBytes), nameof(ProcessingSettings.CheckpointInterval) })
            {
                var key = $"{ProcessingSettings.Section}:{name}";
                if (Given(configuration, key) is { } value)
                {
                    problems.Add($"{key}: applies to {store}=rocksdb only, and {store} is {processing.StateStore}; got '{value}'.");
                }
            }
        }

        if (!alerts.WebhookEnabled)
        {
            var given = configuration.GetSection($"{AlertSettings.Section}:Webhook").AsEnumerable()
                .Where(e => e.Value is { Length: > 0 }).OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
            if (given.Count > 0)
            {
                problems.Add($"{AlertSettings.Section}:Webhook:Url: not set, so no webhook runs and {Listed(given)} {(given.Count == 1 ? "does" : "do")} nothing; set Url or remove {(given.Count == 1 ? "it" : "them")}.");
            }
        }

        if (string.IsNullOrWhiteSpace(kafka.RouteHeader))
        {
            var keyed = configuration.GetSection("StreamSeq:Routes").GetChildren()
                .Select(r => new KeyValuePair<string, string?>($"{r.Path}:{nameof(RouteSettings.RouteKey)}", r[nameof(RouteSettings.RouteKey)]))
                .Where(r => r.Value is { Length: > 0 }).ToList();
            if (keyed.Count > 0)
            {
                problems.Add($"{KafkaTransportOptions.Section}:{nameof(KafkaTransportOptions.RouteHeader)}: empty, so no header routes streams, and {Listed(keyed)} can never match; set RouteHeader, or remove the RouteKey{(keyed.Count == 1 ? string.Empty : "s")}.");
            }
        }

        return problems;
    }

    private static string Listed(IEnumerable<KeyValuePair<string, string?>> settings) =>
        string.Join(", ", settings.Select(s => $"{s.Key} ('{s.Value}')"));

    private static string? Given(IConfiguration configuration, string key) =>
        configuration[key] is { } value && !string.IsNullOrWhiteSpace(value) ? value : null;
}
