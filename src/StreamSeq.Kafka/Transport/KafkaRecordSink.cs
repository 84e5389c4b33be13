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
internal sealed class KafkaRecordSink : IRecordSink
{
    private readonly IProducer<byte[], byte[]> producer;
    private readonly KafkaTransportOptions options;
    private readonly Action<OutputKind, ReadOnlySpan<char>, ReadOnlySpan<byte>>? tap;

    public KafkaRecordSink(IProducer<byte[], byte[]> producer, KafkaTransportOptions options, Action<OutputKind, ReadOnlySpan<char>, ReadOnlySpan<byte>>? tap)
    {
        this.producer = producer;
        this.options = options;
        this.tap = tap;
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
        var topic = kind switch
        {
            OutputKind.Filtered => options.FilteredTopic,
            OutputKind.Smoothed => options.SmoothedTopic,
            OutputKind.Forecast => options.ForecastTopic,
            _ => options.AnomalyTopic,
        };
        var key = CurrentKey is { } k && Matches(k, streamId) ? k : Encoding.UTF8.GetBytes(streamId.ToString());
        Produce(topic, new Message<byte[], byte[]> { Key = key, Value = record.ToArray(), Timestamp = CurrentTimestamp, Headers = Stamp(null) });
        tap?.Invoke(kind, streamId, record);
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
