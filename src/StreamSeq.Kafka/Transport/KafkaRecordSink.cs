using System.Globalization;
using System.Text;
using Confluent.Kafka;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;

namespace StreamSeq.Kafka.Transport;

/// <summary>
/// Produces the processor's outputs and dead letters into the open transaction: one topic per record kind, keyed by
/// stream id, stamped with the input record's timestamp (so a replay produces the same records and timestamps).
/// </summary>
/// <remarks>
/// <c>Produce</c> copies key, value and headers into librdkafka before it returns (no delivery handler is attached;
/// a failed send surfaces at <c>CommitTransaction</c>), so the message object, the exact-size key and value arrays,
/// the per-topic targets and the transaction-stamp headers are reused from record to record instead of allocated.
/// </remarks>
internal sealed class KafkaRecordSink : IRecordSink
{
    private readonly IProducer<byte[], byte[]> producer;
    private readonly KafkaTransportOptions options;
    private readonly Action<OutputKind, ReadOnlySpan<char>, ReadOnlySpan<byte>>? tap;
    private readonly TopicPartition filtered;
    private readonly TopicPartition smoothed;
    private readonly TopicPartition forecast;
    private readonly TopicPartition anomaly;
    private readonly Message<byte[], byte[]> message = new();
    private readonly ExactSizeBuffers keys = new();
    private readonly ExactSizeBuffers values = new();
    private byte[]? stampedWith;
    private Headers? stampHeaders;

    public KafkaRecordSink(IProducer<byte[], byte[]> producer, KafkaTransportOptions options, Action<OutputKind, ReadOnlySpan<char>, ReadOnlySpan<byte>>? tap)
    {
        this.producer = producer;
        this.options = options;
        this.tap = tap;
        filtered = new TopicPartition(options.FilteredTopic, Partition.Any);
        smoothed = new TopicPartition(options.SmoothedTopic, Partition.Any);
        forecast = new TopicPartition(options.ForecastTopic, Partition.Any);
        anomaly = new TopicPartition(options.AnomalyTopic, Partition.Any);
    }

    /// <summary>The key bytes of the input record being processed (reused as the output key).</summary>
    public byte[]? CurrentKey { get; set; }

    /// <summary>The input record's timestamp.</summary>
    public Timestamp CurrentTimestamp { get; set; }

    /// <summary>Transaction header of the current input partition (null: none).</summary>
    public byte[]? TransactionStamp { get; set; }

    /// <summary>Records produced in the current transaction.</summary>
    public long Produced { get; set; }

    public void Write(OutputKind kind, ReadOnlySpan<char> streamId, ReadOnlySpan<byte> record)
    {
        var target = kind switch
        {
            OutputKind.Filtered => filtered,
            OutputKind.Smoothed => smoothed,
            OutputKind.Forecast => forecast,
            _ => anomaly,
        };
        var key = CurrentKey is { } k && Matches(k, streamId) ? k : Encoding.UTF8.GetBytes(streamId.ToString());
        ProduceCopy(target, key, values.Copy(record), CurrentTimestamp);
        tap?.Invoke(kind, streamId, record);
    }

    /// <summary>
    /// Produces one changelog-style record (no timestamp: the broker's time) with the transaction stamp, copying key
    /// and value into reused arrays; the spans may be reused by the caller as soon as this returns.
    /// </summary>
    public void ProduceState(TopicPartition target, ReadOnlySpan<char> key, ReadOnlySpan<byte> value)
    {
        Span<byte> keyBytes = stackalloc byte[256];
        var keyArray = Encoding.UTF8.TryGetBytes(key, keyBytes, out var n) ? keys.Copy(keyBytes[..n]) : Encoding.UTF8.GetBytes(key.ToString());
        ProduceCopy(target, keyArray, values.Copy(value), default);
    }

    /// <summary>Produces one record with the transaction stamp through the reused message object.</summary>
    public void ProduceCopy(TopicPartition target, byte[] key, byte[] value, Timestamp timestamp)
    {
        message.Key = key;
        message.Value = value;
        message.Timestamp = timestamp;
        message.Headers = StampHeaders();
        Produce(target, message);
    }

    public void DeadLetter(in DeadLetter letter)
    {
        var headers = new Headers
        {
            { DeadLetterHeaders.Kind, Encoding.UTF8.GetBytes(DeadLetterReasons.Name(letter.Reason)) },
            { DeadLetterHeaders.Message, Encoding.UTF8.GetBytes(letter.Message) },
            { DeadLetterHeaders.SourceTopic, Encoding.UTF8.GetBytes(letter.Source.Source) },
            { DeadLetterHeaders.SourcePartition, Encoding.UTF8.GetBytes(letter.Source.Partition.ToString(CultureInfo.InvariantCulture)) },
            { DeadLetterHeaders.SourceOffset, Encoding.UTF8.GetBytes(letter.Source.Offset.ToString(CultureInfo.InvariantCulture)) },
        };
        Produce(options.DeadLetterTopic, new Message<byte[], byte[]> { Key = CurrentKey!, Value = letter.Original.ToArray(), Headers = Stamp(headers), Timestamp = CurrentTimestamp });
    }

    /// <summary>Produces one record, waiting for queue space when the local queue is full.</summary>
    public void Produce(string topic, Message<byte[], byte[]> message) => Produce(new TopicPartition(topic, Partition.Any), message);

    /// <summary>Produces one record to a given partition.</summary>
    public void Produce(TopicPartition target, Message<byte[], byte[]> message)
    {
        while (true)
        {
            try
            {
                producer.Produce(target, message);
                Produced++;
                return;
            }
            catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(20));
            }
        }
    }

    /// <summary>
    /// Headers holding only the current transaction stamp, built once per stamp (one per input partition and
    /// transaction) and shared by that transaction's records; null when there is no stamp.
    /// </summary>
    public Headers? StampHeaders()
    {
        if (TransactionStamp is null)
        {
            return null;
        }

        if (!ReferenceEquals(stampedWith, TransactionStamp))
        {
            stampHeaders = [new Header(ChangelogKeys.TransactionHeader, TransactionStamp)];
            stampedWith = TransactionStamp;
        }

        return stampHeaders;
    }

    /// <summary>Adds the transaction header to <paramref name="headers"/> (or to new headers).</summary>
    public Headers? Stamp(Headers? headers)
    {
        if (TransactionStamp is null)
        {
            return headers;
        }

        headers ??= [];
        headers.Add(ChangelogKeys.TransactionHeader, TransactionStamp);
        return headers;
    }

    private static bool Matches(byte[] key, ReadOnlySpan<char> id)
    {
        Span<byte> buffer = stackalloc byte[256];
        return Encoding.UTF8.TryGetBytes(id, buffer, out var n) && buffer[..n].SequenceEqual(key);
    }
}
