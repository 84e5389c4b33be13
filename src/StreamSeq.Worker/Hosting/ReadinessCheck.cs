using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace StreamSeq.Worker.Hosting;

/// <summary>Ready when <see cref="WorkerReadiness"/> says so: group joined, assigned partitions restored, broker reachable.</summary>
public sealed class ReadinessCheck(WorkerReadiness readiness) : IHealthCheck
{
    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (ready, reason) = await readiness.CheckAsync(cancellationToken).ConfigureAwait(false);
        return ready ? HealthCheckResult.Healthy(reason) : HealthCheckResult.Unhealthy(reason);
    }
}
