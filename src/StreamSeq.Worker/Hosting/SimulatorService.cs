using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using StreamSeq.Kafka.Native;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Records;
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
    public long Produced { get; private set; }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        KafkaNative.EnsureLoaded();
        var config = new ProducerConfig { BootstrapServers = broker.BootstrapServers, EnableIdempotence = true, LingerMs = 5 };
        foreach (var (k, v) in kafka.Client)
        {
            config.Set(k, v);
        }

        using var producer = new ProducerBuilder<string, string>(config).SetLogHandler((_, _) => { }).Build();
        var simulator = new SensorSimulator(new SimulatorOptions
        {
            Streams = settings.Streams,
            Interval = settings.SampleInterval,
            FaultRate = settings.FaultRate,
            Seed = settings.Seed,
            StartMilliseconds = time.GetUtcNow().ToUnixTimeMilliseconds(),
        });
        LogStarting(logger, settings.Streams, kafka.InputTopic, settings.Pace.TotalMilliseconds, settings.SampleInterval);
        using var timer = new PeriodicTimer(settings.Pace, time);
        var text = new char[40];
        var rounds = 0;
        while (!stoppingToken.IsCancellationRequested && (settings.Rounds == 0 || rounds < settings.Rounds))
        {
            foreach (var r in simulator.NextRound())
            {
                var n = new RecordTime(r.TimeMilliseconds, TimeFormat.Iso8601).FormatIso(text);
                var values = string.Join(",", r.Values.Select(v => double.IsNaN(v) ? "null" : v.ToString("R", CultureInfo.InvariantCulture)));
                var message = new Message<string, string>
                {
                    Key = r.Stream,
                    Value = $"{{\"time\":\"{new string(text, 0, n)}\",\"values\":[{values}]}}",
                    Headers = new Headers { { "sensor-type", Encoding.UTF8.GetBytes(r.Kind.ToString().ToLowerInvariant()) } },
                };
                try
                {
                    producer.Produce(kafka.InputTopic, message);
                    Produced++;
                }
                catch (ProduceException<string, string> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }

            rounds++;
            try
            {
                await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        producer.Flush(TimeSpan.FromSeconds(5));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Simulating {Streams} sensors into {Topic}: one round every {PaceMs} ms, event time advancing {Interval} per round")]
    private static partial void LogStarting(ILogger logger, int streams, string topic, double paceMs, TimeSpan interval);
}
