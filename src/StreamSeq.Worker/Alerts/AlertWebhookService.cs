using System.Diagnostics.Metrics;
using System.Reactive.Concurrency;
using Microsoft.Extensions.Options;
using StreamSeq.Processing.Alerts;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.Telemetry;
using StreamSeq.Worker.Hosting;

namespace StreamSeq.Worker.Alerts;

/// <summary>
/// Posts the worker's anomaly alerts to an Alertmanager webhook (<see cref="AlertWebhookSettings"/>) through an
/// <see cref="AlertDispatcher"/>: the processing loop only parses the anomaly record and enqueues it, never waits for
/// the network, and a webhook failure never touches the Kafka outputs. Delivery is at most once; alerts re-emitted
/// when records are processed again after a crash or a rebalance are posted again with the same labels, which
/// Alertmanager merges into the alert it already has.
/// </summary>
public sealed partial class AlertWebhookService : IHostedService, IDisposable
{
    private static readonly TimeSpan DropLogInterval = TimeSpan.FromMinutes(1);

    private readonly AlertWebhookSettings settings;
    private readonly OutputTap tap;
    private readonly TimeProvider clock;
    private readonly ILogger<AlertWebhookService> logger;
    private readonly HttpClient? client;
    private readonly AlertDispatcher? dispatcher;
    private IDisposable? deliveries;
    private IDisposable? anomalies;
    private long droppedLogged;
    private DateTimeOffset lastDropLog = DateTimeOffset.MinValue;

    /// <summary>Creates the service; it does nothing unless a webhook URL is configured.</summary>
    public AlertWebhookService(IOptions<AlertSettings> options, OutputTap tap, ProcessingMetrics metrics, TimeProvider clock, ILogger<AlertWebhookService> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        settings = options.Value.Webhook;
        this.tap = tap;
        this.clock = clock;
        this.logger = logger;
        if (settings.Url is not { } url)
        {
            return;
        }

        client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = settings.Timeout };
        var sink = new AlertmanagerSink(client, new AlertmanagerSinkOptions
        {
            Url = url,
            Labels = settings.Labels,
            GeneratorBaseUrl = settings.GeneratorUrl,
            ResolveAfter = settings.ResolveAfter,
        });
        dispatcher = new AlertDispatcher(
            sink,
            new AlertDispatcherOptions
            {
                MaxBatchSize = settings.MaxBatchSize,
                BatchInterval = settings.BatchInterval,
                MaxRequestsPerSecond = settings.MaxRequestsPerSecond,
                QueueCapacity = settings.QueueCapacity,
                MaxAttempts = settings.MaxAttempts,
                RetryBackoff = settings.RetryBackoff,
            },
            TaskPoolScheduler.Default);
        var d = dispatcher;
        var meter = metrics.Meter;
        meter.CreateObservableCounter("streamseq.alerts.webhook.sent", () => d.Sent, "{alert}", "Alerts the webhook delivered.");
        meter.CreateObservableCounter("streamseq.alerts.webhook.dropped", () => d.Dropped, "{alert}", "Alerts dropped because the webhook's queue was full.");
        meter.CreateObservableCounter("streamseq.alerts.webhook.failed", () => d.Failed, "{alert}", "Alerts given up after a permanent failure or the last retry.");
        meter.CreateObservableCounter("streamseq.alerts.webhook.requests", () => d.Requests, "{request}", "Requests made to the webhook, retries included.");
        meter.CreateObservableUpDownCounter("streamseq.alerts.webhook.queued", () => d.Waiting, "{alert}", "Alerts waiting to be posted.");
    }

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (dispatcher is null)
        {
            return Task.CompletedTask;
        }

        deliveries = dispatcher.Deliveries.Subscribe(Report);
        anomalies = tap.Subscribe(OnAnomaly, OutputKind.Anomaly);
        LogEnabled(logger, settings.Url!, settings.MaxBatchSize, settings.BatchInterval, settings.MaxRequestsPerSecond);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (dispatcher is null)
        {
            return;
        }

        // The loop has stopped (this service starts before it and stops after it); what waits gets the rest of the
        // shutdown time to go out.
        anomalies?.Dispose();
        await dispatcher.CompleteAsync(cancellationToken).ConfigureAwait(false);
        if (dispatcher.Dropped > 0 || dispatcher.Failed > 0)
        {
            LogTotals(logger, dispatcher.Sent, dispatcher.Dropped, dispatcher.Failed);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        anomalies?.Dispose();
        deliveries?.Dispose();
        dispatcher?.Dispose();
        client?.Dispose();
    }

    private void OnAnomaly(OutputKind kind, string stream, byte[] record)
    {
        if (AlertNotification.TryParse(record, clock.GetUtcNow(), out var alert))
        {
            dispatcher!.Offer(alert!);
        }
    }

    private void Report(AlertDelivery delivery)
    {
        switch (delivery.Outcome)
        {
            case AlertDeliveryOutcome.Retrying:
                LogRetrying(logger, delivery.Alerts, delivery.Attempt, delivery.Error?.Message);
                break;
            case AlertDeliveryOutcome.Failed:
                LogFailed(logger, delivery.Alerts, delivery.Attempt, delivery.Error?.Message);
                break;
        }

        // Drops happen on the loop's side; they are reported from here, at most once a minute.
        var dropped = dispatcher!.Dropped;
        var now = clock.GetUtcNow();
        if (dropped > droppedLogged && now - lastDropLog >= DropLogInterval)
        {
            LogDropped(logger, dropped - droppedLogged, settings.QueueCapacity);
            droppedLogged = dropped;
            lastDropLog = now;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Posting anomaly alerts to {Url} (batches of up to {MaxBatchSize}, every {BatchInterval} at most, {MaxRequestsPerSecond} requests/s at most)")]
    private static partial void LogEnabled(ILogger logger, Uri url, int maxBatchSize, TimeSpan batchInterval, double maxRequestsPerSecond);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert webhook: a batch of {Alerts} alerts failed on try {Attempt} and will be retried: {Reason}")]
    private static partial void LogRetrying(ILogger logger, int alerts, int attempt, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert webhook: gave up a batch of {Alerts} alerts after {Attempt} tries: {Reason} (the anomaly topic has them)")]
    private static partial void LogFailed(ILogger logger, int alerts, int attempt, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert webhook: dropped {Alerts} alerts because {Capacity} were already waiting (the anomaly topic has them)")]
    private static partial void LogDropped(ILogger logger, long alerts, int capacity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert webhook stopped: {Sent} alerts delivered, {Dropped} dropped, {Failed} given up")]
    private static partial void LogTotals(ILogger logger, long sent, long dropped, long failed);
}
