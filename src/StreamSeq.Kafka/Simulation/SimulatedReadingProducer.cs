using System.Globalization;
using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Native;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.Simulation;

namespace StreamSeq.Kafka.Simulation;

/// <summary>
/// Produces a <see cref="SensorSimulator"/>'s readings to a Kafka topic as live input: one round of readings per
/// pace interval, keyed by stream id, each value an input record (<c>{"time":"...","values":[...]}</c>, missing
/// components as <c>null</c>) with a <see cref="SensorTypeHeader"/> header naming the sensor kind. The worker's
/// embedded mode and <c>streamseq simulate --bootstrap-servers</c> both use it.
/// </summary>
public sealed class SimulatedReadingProducer : IDisposable
{
    /// <summary>The header carrying the sensor kind (the worker's default route header).</summary>
    public const string SensorTypeHeader = "sensor-type";

    private readonly IProducer<string, byte[]> producer;
    private readonly Action<DeliveryReport<string, byte[]>> onDelivery;
    private long produced;
    private long delivered;
    private long failed;
    private volatile Error? lastFailure;

    /// <summary>Creates an idempotent producer.</summary>
    /// <param name="bootstrapServers">Broker list.</param>
    /// <param name="client">Extra librdkafka settings (security, tuning), passed through unchanged.</param>
    public SimulatedReadingProducer(string bootstrapServers, IEnumerable<KeyValuePair<string, string>>? client = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(bootstrapServers);
        KafkaNative.EnsureLoaded();
        var config = new ProducerConfig { BootstrapServers = bootstrapServers, EnableIdempotence = true, LingerMs = 5 };
        foreach (var (key, value) in client ?? [])
        {
            config.Set(key, value);
        }

        producer = new ProducerBuilder<string, byte[]>(config).SetLogHandler((_, _) => { }).Build();
        onDelivery = report =>
        {
            if (report.Error.IsError)
            {
                lastFailure = report.Error;
                Interlocked.Increment(ref failed);
            }
            else
            {
                Interlocked.Increment(ref delivered);
            }
        };
    }

    /// <summary>Readings handed to the producer so far.</summary>
    public long Produced => Interlocked.Read(ref produced);

    /// <summary>Readings the broker acknowledged.</summary>
    public long Delivered => Interlocked.Read(ref delivered);

    /// <summary>Readings the producer gave up on (<see cref="LastFailure"/> says why).</summary>
    public long Failed => Interlocked.Read(ref failed);

    /// <summary>The reason of the last reading the producer gave up on, or null.</summary>
    public Error? LastFailure => lastFailure;

    /// <summary>
    /// Asks the broker for <paramref name="topic"/>'s metadata; null when it answered and has the topic (or created it,
    /// where the broker creates topics on first use), otherwise what is wrong, for an error line.
    /// </summary>
    public string? Reach(string topic, TimeSpan timeout)
    {
        using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
        try
        {
            var metadata = admin.GetMetadata(topic, timeout).Topics.SingleOrDefault(t => t.Topic == topic);
            return metadata?.Error.Code switch
            {
                ErrorCode.UnknownTopicOrPart => $"topic '{topic}' does not exist (and the broker does not create topics on first use)",
                ErrorCode.TopicAuthorizationFailed => $"not allowed to write to topic '{topic}'",
                _ => null,
            };
        }
        catch (KafkaException e)
        {
            return $"no broker answered within {timeout.TotalSeconds:0} s ({e.Error.Reason})";
        }
    }

    /// <summary>
    /// Produces <paramref name="rounds"/> rounds (0: until cancelled), one every <paramref name="pace"/>, then waits
    /// for the broker to acknowledge what was sent (<see cref="Unacknowledged"/>: what it did not within 10 s).
    /// </summary>
    /// <param name="simulator">The fleet.</param>
    /// <param name="topic">The topic to produce to.</param>
    /// <param name="pace">Time between rounds.</param>
    /// <param name="rounds">Rounds to produce (0: until cancelled).</param>
    /// <param name="time">The clock of the pace.</param>
    /// <param name="cancellation">Stops producing (what was sent is still waited for).</param>
    /// <param name="stopOnFailure">Stop at the first reading the producer gave up on (<see cref="Failed"/>).</param>
    public async Task RunAsync(SensorSimulator simulator, string topic, TimeSpan pace, int rounds, TimeProvider time, CancellationToken cancellation, bool stopOnFailure = false)
    {
        ArgumentNullException.ThrowIfNull(simulator);
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        ArgumentNullException.ThrowIfNull(time);
        using var timer = new PeriodicTimer(pace, time);
        var done = 0;
        while (!cancellation.IsCancellationRequested && (rounds == 0 || done < rounds) && !(stopOnFailure && Failed > 0))
        {
            foreach (var reading in simulator.NextRound())
            {
                if (!Produce(topic, reading, cancellation))
                {
                    break;
                }
            }

            done++;
            if (rounds != 0 && done >= rounds)
            {
                break;
            }

            try
            {
                await timer.WaitForNextTickAsync(cancellation).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        Unacknowledged = producer.Flush(TimeSpan.FromSeconds(10));
    }

    /// <summary>Readings still waiting for the broker's acknowledgement when <see cref="RunAsync"/> stopped waiting.</summary>
    public int Unacknowledged { get; private set; }

    /// <summary>Encodes a reading as an input record value.</summary>
    public static byte[] Encode(SimulatedReading reading)
    {
        ArgumentNullException.ThrowIfNull(reading);
        Span<char> text = stackalloc char[40];
        var n = new RecordTime(reading.TimeMilliseconds, TimeFormat.Iso8601).FormatIso(text);
        var builder = new StringBuilder(64 + (reading.Values.Length * 24));
        builder.Append("{\"time\":\"").Append(text[..n]).Append("\",\"values\":[");
        for (var i = 0; i < reading.Values.Length; i++)
        {
            if (i > 0)
            {
                builder.Append(',');
            }

            var v = reading.Values[i];
            if (double.IsNaN(v))
            {
                builder.Append("null");
            }
            else
            {
                builder.Append(v.ToString("R", CultureInfo.InvariantCulture));
            }
        }

        builder.Append("]}");
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    /// <inheritdoc />
    public void Dispose() => producer.Dispose();

    /// <summary>
    /// Hands one reading to the producer, waiting while its queue is full (a broker that is down or slow) until
    /// <paramref name="cancellation"/>: false when cancelled first. A reading the client refuses outright counts as
    /// failed, with its reason, as one the broker refused does: the simulator keeps going.
    /// </summary>
    private bool Produce(string topic, SimulatedReading reading, CancellationToken cancellation)
    {
        var message = new Message<string, byte[]>
        {
            Key = reading.Stream,
            Value = Encode(reading),
            Headers = new Headers { { SensorTypeHeader, Encoding.UTF8.GetBytes(reading.Kind.ToString().ToLowerInvariant()) } },
        };
        while (true)
        {
            try
            {
                producer.Produce(topic, message, onDelivery);
                Interlocked.Increment(ref produced);
                return true;
            }
            catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                if (cancellation.IsCancellationRequested)
                {
                    return false;
                }

                producer.Poll(TimeSpan.FromMilliseconds(50));
            }
            catch (ProduceException<string, byte[]> e)
            {
                Interlocked.Increment(ref produced);
                lastFailure = e.Error;
                Interlocked.Increment(ref failed);
                return true;
            }
        }
    }
}
