namespace StreamSeq.Processing.Alerts;

/// <summary>Where and how <see cref="AlertmanagerSink"/> posts alerts.</summary>
public sealed class AlertmanagerSinkOptions
{
    /// <summary>The receiver: Alertmanager's <c>http://alertmanager:9093/api/v2/alerts</c>, or any endpoint taking that format.</summary>
    public required Uri Url { get; init; }

    /// <summary>Labels added to every alert (for example <c>severity</c>, <c>cluster</c>), as Prometheus's external labels.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>The worker's address as users reach it; each alert then links to its stream's dashboard page.</summary>
    public Uri? GeneratorBaseUrl { get; init; }

    /// <summary>
    /// How long an alert stays firing in Alertmanager (<c>endsAt</c> = emission + this), unless a later alert with the
    /// same labels extends it. Anomalies are events, not states, so they resolve by themselves.
    /// </summary>
    public TimeSpan ResolveAfter { get; init; } = TimeSpan.FromMinutes(5);
}
