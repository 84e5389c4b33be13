using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace StreamSeq.Worker.Hosting;

/// <summary>Ready only once the processing loop runs and every owned partition's state is restored.</summary>
public sealed class ReadinessCheck(StreamWorkerService service) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = service.Worker.Status;
        return Task.FromResult(status.Ready
            ? HealthCheckResult.Healthy($"partitions [{string.Join(",", status.Partitions)}]")
            : HealthCheckResult.Unhealthy(status.Started ? "restoring state" : "not started"));
    }
}
