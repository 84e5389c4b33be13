using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using StreamSeq.Worker.Configuration;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// Prints one line when the worker first becomes ready (the loop runs and every assigned partition is restored), with
/// the time since the process started and where its endpoints listen, so whoever started it knows when to look.
/// </summary>
public sealed partial class ReadinessAnnouncer(StreamWorkerService service, IServer server, WorkerSettings settings, TimeProvider time, ILogger<ReadinessAnnouncer> logger) : BackgroundService
{
    /// <summary>How long the worker may be ready with no partition assigned before it says so.</summary>
    public static readonly TimeSpan NoPartitionsPatience = TimeSpan.FromSeconds(30);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200), time);
        DateTimeOffset? readyWithoutPartitions = null;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var status = service.Worker.Status;

                // Ready with no partitions is vacuous until the group assigns some; say so only if none come.
                readyWithoutPartitions = status.Ready && status.Partitions.Count == 0 ? readyWithoutPartitions ?? time.GetUtcNow() : null;
                if (status.Ready && (status.Partitions.Count > 0 || time.GetUtcNow() - readyWithoutPartitions > NoPartitionsPatience))
                {
                    var started = Process.GetCurrentProcess().StartTime.ToUniversalTime();
                    var seconds = (time.GetUtcNow().UtcDateTime - started).TotalSeconds;
                    var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
                    var partitions = status.Partitions.Count > 0 ? $"partitions [{string.Join(",", status.Partitions)}] restored" : "no partition assigned to this worker";
                    // Name only what is served: the dashboard is off by default against a configured cluster.
                    var served = settings.DashboardEnabled ? "dashboard and API" : "API, health and metrics";
                    LogReady(logger, seconds, partitions, served, string.Join(" ", addresses));
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "StreamSeq worker ready {Seconds:F1} s after start: {Partitions}; {Served} on {Addresses}")]
    private static partial void LogReady(ILogger logger, double seconds, string partitions, string served, string addresses);
}
