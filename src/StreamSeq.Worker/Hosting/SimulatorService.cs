using Microsoft.Extensions.Options;
using StreamSeq.Kafka.Simulation;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Simulation;
using StreamSeq.Worker.Configuration;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// The built-in sensor fleet: produces simulated readings (spikes, drifts, stuck values, level shifts, gaps) to the
/// input topic, one round per <see cref="EmbeddedSettings.Pace"/>, keyed by stream id with a <c>sensor-type</c> header.
/// Readings the broker does not take are counted (<see cref="Failed"/>, shown in <c>/api/status</c>) and logged as a
/// warning at most once per <see cref="EmbeddedSettings.SummaryInterval"/>; it is a demo feed, so it keeps producing.
/// </summary>
public sealed partial class SimulatorService : BackgroundService
{
    /// <summary>How often the delivery reports are looked at for new failures.</summary>
    private static readonly TimeSpan FailureCheck = TimeSpan.FromSeconds(1);

    private readonly BrokerEndpoint broker;
    private readonly KafkaTransportOptions kafka;
    private readonly EmbeddedSettings settings;
    private readonly ILogger<SimulatorService> logger;
    private readonly TimeProvider time;
    private readonly DeliveryFailureWarnings warnings;
    private SimulatedReadingProducer? producer;

    /// <summary>Creates the service.</summary>
    public SimulatorService(BrokerEndpoint broker, IOptions<KafkaTransportOptions> kafka, IOptions<EmbeddedSettings> settings, TimeProvider time, ILogger<SimulatorService> logger)
    {
        ArgumentNullException.ThrowIfNull(kafka);
        ArgumentNullException.ThrowIfNull(settings);
        this.broker = broker;
        this.kafka = kafka.Value;
        this.settings = settings.Value;
        this.time = time;
        this.logger = logger;
        warnings = new DeliveryFailureWarnings(this.settings.SummaryInterval);
    }

    /// <summary>Readings produced so far.</summary>
    public long Produced => producer?.Produced ?? 0;

    /// <summary>Readings the broker acknowledged so far.</summary>
    public long Delivered => producer?.Delivered ?? 0;

    /// <summary>Readings the producer gave up on so far (<see cref="LastFailure"/> says why).</summary>
    public long Failed => producer?.Failed ?? 0;

    /// <summary>Why the last reading the producer gave up on failed (the broker's or the client's reason and error code), or null.</summary>
    public string? LastFailure => producer?.LastFailure is { } error ? $"{error.Reason} ({error.Code})" : null;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var simulator = new SensorSimulator(new SimulatorOptions
        {
            Streams = settings.Streams,
            Interval = settings.SampleInterval,
            FaultRate = settings.FaultRate,
            Seed = settings.Seed,
            StartMilliseconds = time.GetUtcNow().ToUnixTimeMilliseconds(),
        });
        producer = new SimulatedReadingProducer(broker.BootstrapServers, kafka.Client);
        LogStarting(logger, settings.Streams, kafka.InputTopic, settings.Pace.TotalMilliseconds, settings.SampleInterval);
        using var producing = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var watching = WatchFailuresAsync(producing.Token);
        try
        {
            await producer.RunAsync(simulator, kafka.InputTopic, settings.Pace, settings.Rounds, time, stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            await producing.CancelAsync().ConfigureAwait(false);
            await watching.ConfigureAwait(false);

            // RunAsync has waited for the broker's acknowledgements: what failed since the last warning is said now.
            WarnAboutFailures(final: true);
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        producer?.Dispose();
        base.Dispose();
    }

    private async Task WatchFailuresAsync(CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(FailureCheck, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellation).ConfigureAwait(false))
            {
                WarnAboutFailures(final: false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void WarnAboutFailures(bool final)
    {
        var failed = Failed;
        if (warnings.ShouldWarn(failed, time.GetUtcNow(), final, out var since))
        {
            LogDeliveryFailures(logger, since, kafka.InputTopic, failed, Produced, LastFailure ?? "unknown");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulating {Streams} sensors into {Topic}: one round every {PaceMs} ms, event time advancing {Interval} per round")]
    private static partial void LogStarting(ILogger logger, int streams, string topic, double paceMs, TimeSpan interval);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Simulator: {Since} more readings failed delivery to {Topic} ({Failed} of {Produced} so far); last error: {Error}. The simulator keeps producing.")]
    private static partial void LogDeliveryFailures(ILogger logger, long since, string topic, long failed, long produced, string error);
}
