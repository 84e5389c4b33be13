using Microsoft.Extensions.Options;
using StreamSeq.Worker.Configuration;

namespace StreamSeq.Worker.Hosting;

/// <summary>Logs a periodic one-line summary of what the worker is doing.</summary>
public sealed partial class SummaryService(StreamWorkerService service, WorkerReadiness readiness, IOptions<EmbeddedSettings> settings, TimeProvider time, ILogger<SummaryService> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var interval = settings.Value.SummaryInterval;
        using var timer = new PeriodicTimer(interval, time);
        long lastProcessed = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var s = service.Worker.Status;
                var (ready, _) = await readiness.CheckAsync(stoppingToken).ConfigureAwait(false);
                var processed = s.Processed;
                var rate = (processed - lastProcessed) / interval.TotalSeconds;
                lastProcessed = processed;
                LogSummary(logger, processed, rate, s.LiveStreams, string.Join(",", s.Partitions), s.Commits, s.Lag, s.Alerts, s.DeadLetters, ready);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Processed} records ({Rate:F0}/s), {Streams} streams on partitions [{Partitions}], {Commits} transactions, lag {Lag}, {Alerts} alerts, {DeadLetters} dead letters, ready {Ready}")]
    private static partial void LogSummary(ILogger logger, long processed, double rate, long streams, string partitions, long commits, long lag, long alerts, long deadLetters, bool ready);
}
