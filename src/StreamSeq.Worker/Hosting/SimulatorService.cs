using Microsoft.Extensions.Options;
using StreamSeq.Kafka.Simulation;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Simulation;
using StreamSeq.Worker.Configuration;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// The built-in sensor fleet: produces simulated readings (spikes, drifts, stuck values, level shifts, gaps) to the
/// input topic, one round per <see cref="EmbeddedSettings.Pace"/>, keyed by stream id with a <c>sensor-type</c> header.
/// </summary>
public sealed partial class SimulatorService : BackgroundService
{
    private readonly BrokerEndpoint broker;
    private readonly KafkaTransportOptions kafka;
    private readonly EmbeddedSettings settings;
    private readonly ILogger<SimulatorService> logger;
    private readonly TimeProvider time;
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
    }

    /// <summary>Readings produced so far.</summary>
    public long Produced => producer?.Produced ?? 0;

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
        await producer.RunAsync(simulator, kafka.InputTopic, settings.Pace, settings.Rounds, time, stoppingToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        producer?.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulating {Streams} sensors into {Topic}: one round every {PaceMs} ms, event time advancing {Interval} per round")]
    private static partial void LogStarting(ILogger logger, int streams, string topic, double paceMs, TimeSpan interval);
}
