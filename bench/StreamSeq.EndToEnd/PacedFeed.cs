using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;

namespace StreamSeq.EndToEnd;

/// <summary>
/// Produces readings of many streams while a worker consumes them, never more than <see cref="Window"/> records ahead
/// of what it has processed: the embedded broker keeps only 5 MiB per partition and would drop input not yet read.
/// Readings are generated from the stream and round numbers (no per-stream table in this process's heap).
/// </summary>
internal sealed class PacedFeed : IDisposable
{
    /// <summary>About 20,000 records (1.5 MB) per input partition ahead of the worker: well under the retention.</summary>
    public const int Window = 80_000;

    private readonly IProducer<byte[], byte[]> producer;
    private readonly string topic;

    public PacedFeed(Broker broker, string topic)
    {
        this.topic = topic;
        producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = broker.BootstrapServers,
            EnableIdempotence = true,
            // Large batches: the embedded broker finds a fetch's offset by walking the partition's batches from the
            // oldest it keeps, so thousands of small ones (a slow consumer paces the feed) make each fetch cost milliseconds.
            LingerMs = 100,
            BatchNumMessages = 10_000,
        }).SetLogHandler((_, _) => { }).Build();
    }

    /// <summary>Records handed to the producer so far.</summary>
    public long Produced { get; private set; }

    public static string StreamId(long stream) => $"s{stream:D8}";

    /// <summary>
    /// One reading of each stream in [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>) at
    /// round <paramref name="round"/> (a minute of event time per round), in stream order; waits while the consumer
    /// (<paramref name="processed"/> counts what it has processed since this feed started) is a window behind.
    /// </summary>
    public void Round(long first, long count, int round, Func<long> processed, Action check)
    {
        var time = Workload.StartMilliseconds + (round * 60_000L);
        var idle = Stopwatch.StartNew();
        var seen = processed();
        for (var s = first; s < first + count; s++)
        {
            while (Produced - processed() > Window)
            {
                check();
                var now = processed();
                if (now != seen)
                {
                    seen = now;
                    idle.Restart();
                }
                else if (idle.Elapsed > TimeSpan.FromMinutes(3))
                {
                    throw new TimeoutException($"the worker processed nothing for 3 minutes ({now:N0} of {Produced:N0} produced records).");
                }

                producer.Poll(TimeSpan.FromMilliseconds(1));
            }

            var message = new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(StreamId(s)), Value = Reading(s, round, time) };
            Broker.ProduceWithBackpressure(producer, topic, message);
            Produced++;
        }

        producer.Flush(TimeSpan.FromSeconds(60));
    }

    public void Dispose() => producer.Dispose();

    /// <summary>A noisy local linear trend per stream: level 15..25, slope +-0.01 per minute, noise sd about 0.5.</summary>
    private static byte[] Reading(long stream, int round, long time)
    {
        var level = 15 + (10 * Unit(Mix((ulong)stream)));
        var slope = (Unit(Mix((ulong)stream ^ 0x9E3779B97F4A7C15UL)) - 0.5) * 0.02;
        var noise = Unit(Mix(((ulong)stream * 31) + (ulong)round + 0x632BE59BD9B4E019UL)) + Unit(Mix(((ulong)stream * 37) + (ulong)round + 0x8CB92BA72F3D8DD7UL)) - 1;
        var y = level + (slope * round) + (1.2 * noise);
        return Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"time\":{time},\"values\":[{y:F4}]}}"));
    }

    private static double Unit(ulong bits) => (bits >> 11) * (1.0 / (1UL << 53));

    /// <summary>SplitMix64's finaliser: a well-spread 64-bit hash of a counter.</summary>
    private static ulong Mix(ulong z)
    {
        z = unchecked(z + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }
}
