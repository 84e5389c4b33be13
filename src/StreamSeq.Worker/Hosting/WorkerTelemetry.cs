using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Telemetry;
using StreamSeq.Worker.Configuration;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// The worker's instruments and their export: metrics on the Prometheus endpoint and over OTLP, traces over OTLP, all
/// describing one OpenTelemetry resource (<c>service.name</c>, <c>service.version</c>, <c>service.instance.id</c>).
/// </summary>
public static class WorkerTelemetry
{
    /// <summary>
    /// Registers <see cref="ProcessingMetrics"/> and <see cref="KafkaTransportMetrics"/> and exports both meters (plus
    /// .NET runtime metrics and the dashboard's meter when it runs) as <paramref name="exporters"/> says (default: the
    /// Prometheus endpoint, plus OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set).
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">The host's configuration (OpenTelemetry's <c>OTEL_*</c> variables are read from it).</param>
    /// <param name="instanceId">
    /// <c>service.instance.id</c>: the worker's Kafka instance id (<c>StreamSeq:Kafka:InstanceId</c>, the pod name in the
    /// Helm chart), so metrics, traces and the transactional id name the same instance.
    /// </param>
    /// <param name="exporters">Where metrics and traces go; null reads it from <paramref name="configuration"/>.</param>
    public static IServiceCollection AddWorkerTelemetry(this IServiceCollection services, IConfiguration configuration, string? instanceId = null, TelemetryExporters? exporters = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        exporters ??= TelemetryExporters.Read(configuration, []);
        services.AddSingleton(sp => new ProcessingMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton(sp => new KafkaTransportMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        var version = ProductVersion.Current;
        var serviceName = configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : TelemetryExporters.DefaultServiceName;
        var otel = services.AddOpenTelemetry().ConfigureResource(resource =>
        {
            resource.AddService(serviceName, serviceVersion: version.Version, autoGenerateServiceInstanceId: instanceId is null, serviceInstanceId: instanceId);
            if (version.Commit is { } commit)
            {
                resource.AddAttributes([new KeyValuePair<string, object>("vcs.ref.head.revision", commit)]);
            }
        });
        otel.WithMetrics(m =>
        {
            m.AddMeter(ProcessingMetrics.MeterName, KafkaTransportMetrics.MeterName, Dashboard.DashboardMetrics.MeterName)
                .AddRuntimeInstrumentation();
            if (exporters.Prometheus)
            {
                m.AddPrometheusExporter();
            }

            if (exporters.OtlpMetrics)
            {
                m.AddOtlpExporter();
            }
        });
        otel.WithTracing(t =>
        {
            t.AddSource(KafkaTransportMetrics.MeterName);
            if (exporters.OtlpTraces)
            {
                t.AddOtlpExporter();
            }
        });
        return services;
    }
}
