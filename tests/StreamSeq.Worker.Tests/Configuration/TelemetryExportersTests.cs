using Microsoft.Extensions.Configuration;
using StreamSeq.Worker.Configuration;

namespace StreamSeq.Worker.Tests.Configuration;

/// <summary>Where metrics and traces go, from OpenTelemetry's environment variables.</summary>
public sealed class TelemetryExportersTests
{
    private static (TelemetryExporters Exporters, List<string> Problems) Read(Dictionary<string, string?> values)
    {
        var problems = new List<string>();
        return (TelemetryExporters.Read(new ConfigurationBuilder().AddInMemoryCollection(values).Build(), problems), problems);
    }

    [Fact]
    public void Read_NothingSet_PrometheusOnly()
    {
        var (exporters, problems) = Read([]);

        Assert.Equal(new TelemetryExporters(Prometheus: true, OtlpMetrics: false, OtlpTraces: false), exporters);
        Assert.Empty(problems);
    }

    [Theory]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", true, true)]
    [InlineData("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", true, false)]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", false, true)]
    public void Read_OtlpEndpoint_PrometheusAndOtlpForWhatTheEndpointServes(string variable, bool metrics, bool traces)
    {
        var (exporters, _) = Read(new() { [variable] = "http://collector:4318" });

        Assert.Equal(new TelemetryExporters(Prometheus: true, OtlpMetrics: metrics, OtlpTraces: traces), exporters);
    }

    [Theory]
    [InlineData("otlp", false, true)]
    [InlineData("prometheus", true, false)]
    [InlineData("none", false, false)]
    [InlineData(" OTLP , prometheus ", true, true)]
    public void Read_MetricsExporterChosen_ExactlyThose(string value, bool prometheus, bool otlp)
    {
        var (exporters, problems) = Read(new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://collector:4317", ["OTEL_METRICS_EXPORTER"] = value, ["OTEL_TRACES_EXPORTER"] = "none" });

        Assert.Equal(new TelemetryExporters(prometheus, otlp, OtlpTraces: false), exporters);
        Assert.Empty(problems);
    }

    [Fact]
    public void Read_UnknownExporter_OneProblemNamingTheVariable()
    {
        var (_, problems) = Read(new() { ["OTEL_METRICS_EXPORTER"] = "prometheus,zipkin" });

        Assert.Equal("OTEL_METRICS_EXPORTER: 'zipkin' is not one of prometheus, otlp, none.", Assert.Single(problems));
    }
}
