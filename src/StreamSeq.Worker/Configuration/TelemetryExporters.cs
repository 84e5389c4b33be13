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
        var otlpEndpoint = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var metrics = Choice(configuration, "OTEL_METRICS_EXPORTER", ["prometheus", "otlp", "none"], otlpEndpoint || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"]) ? ["prometheus", "otlp"] : ["prometheus"], problems);
        var traces = Choice(configuration, "OTEL_TRACES_EXPORTER", ["otlp", "none"], otlpEndpoint || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]) ? ["otlp"] : [], problems);
        return new TelemetryExporters(metrics.Contains("prometheus"), metrics.Contains("otlp"), traces.Contains("otlp"));
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
