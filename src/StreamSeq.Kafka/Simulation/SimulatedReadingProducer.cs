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
    private long produced;

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
    }

    /// <summary>Readings handed to the producer so far.</summary>
    public long Produced => Interlocked.Read(ref produced);

    /// <summary>
    /// Produces <paramref name="rounds"/> rounds (0: until cancelled), one every <paramref name="pace"/>, then waits
    /// for the broker to acknowledge what was sent.
    /// </summary>
    public async Task RunAsync(SensorSimulator simulator, string topic, TimeSpan pace, int rounds, TimeProvider time, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(simulator);
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        ArgumentNullException.ThrowIfNull(time);
        using var timer = new PeriodicTimer(pace, time);
        var done = 0;
        while (!cancellation.IsCancellationRequested && (rounds == 0 || done < rounds))
        {
            foreach (var reading in simulator.NextRound())
            {
                Produce(topic, reading);
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

        producer.Flush(TimeSpan.FromSeconds(10));
    }

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

    private void Produce(string topic, SimulatedReading reading)
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
                producer.Produce(topic, message);
                Interlocked.Increment(ref produced);
                return;
            }
            catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }
}
