using Microsoft.Extensions.Options;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Telemetry;

namespace StreamSeq.Worker.Hosting;

/// <summary>Runs the exactly-once processing loop on a dedicated thread for the lifetime of the host.</summary>
public sealed partial class StreamWorkerService : BackgroundService
{
    private readonly KafkaStreamWorker worker;
    private readonly BrokerEndpoint broker;
    private readonly KafkaTransportOptions options;
    private readonly ILogger<StreamWorkerService> logger;

    /// <summary>Creates the service and its loop.</summary>
    public StreamWorkerService(
        BrokerEndpoint broker,
        IOptions<KafkaTransportOptions> options,
        ModelRouter router,
        ProcessorOptions processorOptions,
        ProcessingMetrics processingMetrics,
        KafkaTransportMetrics transportMetrics,
        OutputTap tap,
        InputTap inputTap,
        ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(broker);
        ArgumentNullException.ThrowIfNull(loggers);
        ArgumentNullException.ThrowIfNull(tap);
        ArgumentNullException.ThrowIfNull(inputTap);
        this.broker = broker;
        this.options = CopyWithBootstrap(options.Value, broker.BootstrapServers);
        logger = loggers.CreateLogger<StreamWorkerService>();
        worker = new KafkaStreamWorker(this.options, router, processorOptions, processingMetrics, transportMetrics, loggers.CreateLogger<KafkaStreamWorker>(), tap.Publish, inputTap.Publish);
    }

    /// <summary>The loop (status and state queries).</summary>
    public KafkaStreamWorker Worker => worker;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!broker.IsEmbedded)
        {
            await TopicProvisioner.EnsureTopicsAsync(options.BootstrapServers, options, logger, stoppingToken).ConfigureAwait(false);
        }

        try
        {
            await Task.Factory.StartNew(() => worker.Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            LogFatal(logger, e);
            Environment.ExitCode = 1;
            throw;
        }
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
