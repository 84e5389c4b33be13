using System.Diagnostics;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// Prints one line when the worker first becomes ready (the loop runs and every assigned partition is restored), with
/// the time since the process started and where its endpoints listen, so whoever started it knows when to look.
/// </summary>
public sealed partial class ReadinessAnnouncer(StreamWorkerService service, IServer server, TimeProvider time, ILogger<ReadinessAnnouncer> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var status = service.Worker.Status;
                if (status.Ready)
                {
                    var started = Process.GetCurrentProcess().StartTime.ToUniversalTime();
                    var seconds = (time.GetUtcNow().UtcDateTime - started).TotalSeconds;
                    var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
                    LogReady(logger, seconds, string.Join(",", status.Partitions), string.Join(" ", addresses));
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "StreamSeq worker ready {Seconds:F1} s after start: partitions [{Partitions}] restored; dashboard and API on {Addresses}")]
    private static partial void LogReady(ILogger logger, double seconds, string partitions, string addresses);
}
