using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Telemetry;

namespace StreamSeq.Worker.Hosting;

/// <summary>The worker's instruments and their export: Prometheus metrics, and traces over OTLP when configured.</summary>
public static class WorkerTelemetry
{
    /// <summary>
    /// Registers <see cref="ProcessingMetrics"/> and <see cref="KafkaTransportMetrics"/> and exports both meters (plus
    /// .NET runtime metrics and the dashboard's meter when it runs) to the Prometheus endpoint; traces go to OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
    /// </summary>
    public static IServiceCollection AddWorkerTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddSingleton(sp => new ProcessingMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton(sp => new KafkaTransportMetrics(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        var otel = services.AddOpenTelemetry();
        otel.WithMetrics(m => m
            .AddMeter(ProcessingMetrics.MeterName, KafkaTransportMetrics.MeterName, Dashboard.DashboardMetrics.MeterName)
            .AddRuntimeInstrumentation()
            .AddPrometheusExporter());
        otel.WithTracing(t =>
        {
            t.AddSource(KafkaTransportMetrics.MeterName);
            if (!string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            {
                t.AddOtlpExporter();
            }
        });
        return services;
    }
}
