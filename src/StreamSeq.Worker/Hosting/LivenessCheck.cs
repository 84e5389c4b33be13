using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace StreamSeq.Worker.Hosting;

/// <summary>Live unless the processing loop stopped on a fatal error.</summary>
public sealed class LivenessCheck(StreamWorkerService service) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(service.Worker.Status.Fault is { } fault
            ? HealthCheckResult.Unhealthy($"processing loop failed: {fault.Message}")
            : HealthCheckResult.Healthy());
}
