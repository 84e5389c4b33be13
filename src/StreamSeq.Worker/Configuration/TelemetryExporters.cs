namespace StreamSeq.Worker.Configuration;

/// <summary>
/// Where the worker's metrics and traces go, from OpenTelemetry's standard environment variables: metrics to the
/// Prometheus endpoint (<c>/metrics</c>) and, when an OTLP endpoint is configured, over OTLP too; traces over OTLP when an
/// endpoint is configured. <c>OTEL_METRICS_EXPORTER</c> (<c>prometheus</c>, <c>otlp</c>, <c>none</c>, comma-separated)
/// and <c>OTEL_TRACES_EXPORTER</c> (<c>otlp</c>, <c>none</c>) choose explicitly.
/// </summary>
/// <param name="Prometheus">Serve <c>/metrics</c> (the Prometheus exporter, a prerelease package, can be left out).</param>
/// <param name="OtlpMetrics">Push metrics over OTLP (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, ...).</param>
/// <param name="OtlpTraces">Push traces over OTLP.</param>
public sealed record TelemetryExporters(bool Prometheus, bool OtlpMetrics, bool OtlpTraces)
{
    /// <summary>The service name unless <c>OTEL_SERVICE_NAME</c> says otherwise.</summary>
    public const string DefaultServiceName = "streamseq-worker";

    /// <summary>Reads the choice; a value OpenTelemetry does not define for these variables is a problem naming it.</summary>
    public static TelemetryExporters Read(IConfiguration configuration, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(problems);
        CheckOtlpSettings(configuration, problems);
        var otlpEndpoint = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var metrics = Choice(configuration, "OTEL_METRICS_EXPORTER", ["prometheus", "otlp", "none"], otlpEndpoint || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"]) ? ["prometheus", "otlp"] : ["prometheus"], problems);
        var traces = Choice(configuration, "OTEL_TRACES_EXPORTER", ["otlp", "none"], otlpEndpoint || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]) ? ["otlp"] : [], problems);
        return new TelemetryExporters(metrics.Contains("prometheus"), metrics.Contains("otlp"), traces.Contains("otlp"));
    }

    /// <summary>
    /// The OTLP exporter's own variables: OpenTelemetry ignores a value it cannot read (an endpoint that is not a URL, an
    /// unknown protocol, an interval that is not a number) with no more than an internal diagnostic, so metrics and traces
    /// silently went nowhere or at the default pace.
    /// </summary>
    private static void CheckOtlpSettings(IConfiguration configuration, List<string> problems)
    {
        foreach (var signal in new[] { "", "_METRICS", "_TRACES" })
        {
            var endpoint = $"OTEL_EXPORTER_OTLP{signal}_ENDPOINT";
            if (configuration[endpoint] is { } url && !string.IsNullOrWhiteSpace(url)
                && !(Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Host.Length > 0))
            {
                problems.Add($"{endpoint}: '{url}' is not an absolute http or https URL (for example http://otel-collector:4317).");
            }

            var protocol = $"OTEL_EXPORTER_OTLP{signal}_PROTOCOL";
            if (configuration[protocol] is { } p && !string.IsNullOrWhiteSpace(p) && p.Trim().ToLowerInvariant() is not ("grpc" or "http/protobuf"))
            {
                problems.Add($"{protocol}: '{p}' is not one of grpc, http/protobuf.");
            }

            var timeout = $"OTEL_EXPORTER_OTLP{signal}_TIMEOUT";
            Milliseconds(configuration, timeout, allowZero: false, problems);
        }

        Milliseconds(configuration, "OTEL_METRIC_EXPORT_INTERVAL", allowZero: false, problems);
        Milliseconds(configuration, "OTEL_METRIC_EXPORT_TIMEOUT", allowZero: false, problems);
    }

    private static void Milliseconds(IConfiguration configuration, string variable, bool allowZero, List<string> problems)
    {
        if (configuration[variable] is { } text && !string.IsNullOrWhiteSpace(text)
            && !(int.TryParse(text.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms) && (allowZero || ms > 0)))
        {
            problems.Add($"{variable}: '{text}' is not a whole number of milliseconds from {(allowZero ? 0 : 1)} to {int.MaxValue}.");
        }
    }

    private static HashSet<string> Choice(IConfiguration configuration, string variable, string[] allowed, string[] byDefault, List<string> problems)
    {
        var text = configuration[variable];
        if (string.IsNullOrWhiteSpace(text))
        {
            return [.. byDefault];
        }

        var chosen = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => v.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
        foreach (var value in chosen.Where(v => !allowed.Contains(v)))
        {
            problems.Add($"{variable}: '{value}' is not one of {string.Join(", ", allowed)}.");
        }

        return chosen;
    }
}
