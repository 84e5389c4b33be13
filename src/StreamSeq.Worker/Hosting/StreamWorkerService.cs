using Microsoft.Extensions.Options;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.Telemetry;
using StreamSeq.Worker.Configuration;

namespace StreamSeq.Worker.Hosting;

/// <summary>Runs the exactly-once processing loop on a dedicated thread for the lifetime of the host.</summary>
public sealed partial class StreamWorkerService : BackgroundService
{
    private readonly KafkaStreamWorker worker;
    private readonly BrokerEndpoint broker;
    private readonly BrokerConnection connection;
    private readonly IHostApplicationLifetime lifetime;
    private readonly KafkaTransportOptions options;
    private readonly ILogger<StreamWorkerService> logger;

    /// <summary>Creates the service and its loop.</summary>
    public StreamWorkerService(
        BrokerEndpoint broker,
        BrokerConnection connection,
        IHostApplicationLifetime lifetime,
        IOptions<KafkaTransportOptions> options,
        ModelRouter router,
        ProcessorOptions processorOptions,
        ProcessingMetrics processingMetrics,
        KafkaTransportMetrics transportMetrics,
        OutputTap tap,
        InputTap inputTap,
        OwnershipTap ownership,
        ILoggerFactory loggers,
        IOptions<ProcessingSettings> processing,
        IOptions<ApiSettings> api)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(broker);
        ArgumentNullException.ThrowIfNull(loggers);
        ArgumentNullException.ThrowIfNull(tap);
        ArgumentNullException.ThrowIfNull(inputTap);
        ArgumentNullException.ThrowIfNull(api);
        this.broker = broker;
        this.connection = connection;
        this.lifetime = lifetime;
        this.options = CopyWithBootstrap(options.Value, broker.BootstrapServers);
        logger = loggers.CreateLogger<StreamWorkerService>();
        worker = new KafkaStreamWorker(this.options, router, processorOptions, processingMetrics, transportMetrics, loggers.CreateLogger<KafkaStreamWorker>(), tap.Publish, inputTap.Publish, processing?.Value.ToStoreOptions(), ownership)
        {
            MaxPendingQueries = api.Value.MaxPendingQueries,
        };
    }

    /// <summary>The loop (status and state queries).</summary>
    public KafkaStreamWorker Worker => worker;

    /// <inheritdoc />
    /// <remarks>
    /// Against a cluster the service first waits for the broker (retrying, not ready meanwhile; see
    /// <see cref="BrokerConnection"/>) and creates missing topics. A reason not to start found on the way stops the
    /// host with one line on standard error and exit code <see cref="WorkerExitCodes.CannotStart"/>; a fatal error of
    /// the running loop stops it with <see cref="WorkerExitCodes.Fatal"/>, so the orchestrator restarts it.
    /// </remarks>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            // Nothing talks to Kafka before the host has started (the web server listening, so a taken port stops
            // the start before any broker work); the host's start does not wait for the broker either, and the health
            // endpoints answer (not ready) meanwhile.
            await HostStartedAsync(stoppingToken).ConfigureAwait(false);
            if (!broker.IsEmbedded)
            {
                await connection.WaitUntilReachableAsync(stoppingToken).ConfigureAwait(false);
                await TopicProvisioner.EnsureTopicsAsync(connection.Admin, options, logger, stoppingToken).ConfigureAwait(false);
            }

            await Task.Factory.StartNew(() => worker.Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (WorkerStartException e)
        {
            await Console.Error.WriteLineAsync($"streamseq worker: {TerminalSafeText.Escape(e.Message)}").ConfigureAwait(false);
            Environment.ExitCode = WorkerExitCodes.CannotStart;
            lifetime.StopApplication();
        }
        catch (Exception e)
        {
            LogFatal(logger, e);
            Environment.ExitCode = WorkerExitCodes.Fatal;
            lifetime.StopApplication();
        }
    }

    private async Task HostStartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        using var onStopping = stoppingToken.Register(() => started.TrySetCanceled(stoppingToken));
        await started.Task.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        worker.Dispose();
        base.Dispose();
    }

    private static KafkaTransportOptions CopyWithBootstrap(KafkaTransportOptions o, string bootstrap) => new()
    {
        BootstrapServers = bootstrap,
        GroupId = o.GroupId,
        InstanceId = o.InstanceId,
        InputTopic = o.InputTopic,
        FilteredTopic = o.FilteredTopic,
        SmoothedTopic = o.SmoothedTopic,
        ForecastTopic = o.ForecastTopic,
        AnomalyTopic = o.AnomalyTopic,
        DeadLetterTopic = o.DeadLetterTopic,
        ChangelogTopic = o.ChangelogTopic,
        CommitInterval = o.CommitInterval,
        MaxBatchSize = o.MaxBatchSize,
        TransactionTimeout = o.TransactionTimeout,
        StallTimeout = o.StallTimeout,
        CreateTopics = o.CreateTopics,
        TopicPartitions = o.TopicPartitions,
        ReplicationFactor = o.ReplicationFactor,
        RouteHeader = o.RouteHeader,
        GroupProtocol = o.GroupProtocol,
        SessionTimeout = o.SessionTimeout,
        Client = o.Client,
        CommitGroupOffsets = o.CommitGroupOffsets,
    };

    [LoggerMessage(Level = LogLevel.Critical, Message = "The processing loop stopped on a fatal error; the worker exits so it can be restarted")]
    private static partial void LogFatal(ILogger logger, Exception error);
}
