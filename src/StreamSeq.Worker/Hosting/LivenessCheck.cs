using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// Live unless the processing loop stopped on a fatal error, or input has waited longer than
/// <c>StreamSeq:Kafka:StallTimeout</c> with no transaction committed (a loop that makes no progress).
/// </summary>
public sealed class LivenessCheck(StreamWorkerService service) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = service.Worker.Status;
        if (status.Fault is { } fault)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"processing loop failed: {fault.Message}"));
        }

        return Task.FromResult(status.IsStalled(out var waited)
            ? HealthCheckResult.Unhealthy(string.Create(CultureInfo.InvariantCulture, $"no transaction committed for {waited.TotalSeconds:F0} s while {status.Lag} input records wait (StreamSeq:Kafka:StallTimeout {status.StallTimeout})"))
            : HealthCheckResult.Healthy());
    }
}
