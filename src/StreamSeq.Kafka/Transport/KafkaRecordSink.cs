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
/// <para>
/// <c>Produce</c> copies key, value and headers into librdkafka before it returns (no delivery handler is attached;
/// a failed send surfaces at <c>CommitTransaction</c>), so the message object, the exact-size key and value arrays,
/// the per-topic targets and the transaction-stamp headers are reused from record to record instead of allocated.
/// </para>
/// <para>
/// Every record is sized as librdkafka sizes it against the producer's <c>message.max.bytes</c> before it is produced.
/// An output over <see cref="OutputLimit"/> is not produced (the worker dead-letters its input record); a dead letter
/// over it is cut to fit, with the original sizes in a header; a state record over the producer's limit is skipped and
/// reported. A record librdkafka would refuse at once would otherwise fail the whole transaction, over and over.
/// </para>
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
    private int stampHeadersSize;

    /// <summary>librdkafka's largest per-record overhead beyond key, value and headers (a v2 record's varints and attributes).</summary>
    public const int RecordOverhead = 36;

    /// <summary>Number of output and dead-letter topics counted in <see cref="ProducedByTarget"/>.</summary>
    public const int TargetCount = DeadLetterSlot + 1;

    /// <summary>The dead letters' slot of <see cref="ProducedByTarget"/>, after the four output kinds'.</summary>
    private const int DeadLetterSlot = (int)OutputKind.Anomaly + 1;

    /// <summary>Longest error message kept in a dead letter's header.</summary>
    private const int MaxMessageHeaderChars = 2048;

    public KafkaRecordSink(IProducer<byte[], byte[]> producer, KafkaTransportOptions options, Action<OutputKind, ReadOnlySpan<char>, ReadOnlySpan<byte>>? tap, int producerLimit)
    {
        this.producer = producer;
        this.options = options;
        this.tap = tap;
        ProducerLimit = producerLimit;
        OutputLimit = producerLimit;
        filtered = new TopicPartition(options.FilteredTopic, Partition.Any);
        smoothed = new TopicPartition(options.SmoothedTopic, Partition.Any);
        forecast = new TopicPartition(options.ForecastTopic, Partition.Any);
        anomaly = new TopicPartition(options.AnomalyTopic, Partition.Any);
    }

    /// <summary>The key bytes of the input record being processed (reused as the output key).</summary>
    public byte[]? CurrentKey { get; set; }

    /// <summary>Whether the input record being processed has no value (a tombstone), which its dead letter keeps.</summary>
    public bool CurrentValueIsNull { get; set; }

    /// <summary>The input record's timestamp.</summary>
    public Timestamp CurrentTimestamp { get; set; }

    /// <summary>Transaction header of the current input partition (null: none).</summary>
    public byte[]? TransactionStamp { get; set; }

    /// <summary>Records produced in the current transaction.</summary>
    public long Produced { get; set; }

    /// <summary>
    /// Outputs produced in the current transaction by <see cref="OutputKind"/> (indexed by its value), then dead
    /// letters: each to its own topic (<see cref="ProducedTopic"/>).
    /// </summary>
    public long[] ProducedByTarget { get; } = new long[TargetCount];

    /// <summary>The topic of a slot of <see cref="ProducedByTarget"/>.</summary>
    public string ProducedTopic(int target) => target switch
    {
        (int)OutputKind.Filtered => options.FilteredTopic,
        (int)OutputKind.Smoothed => options.SmoothedTopic,
        (int)OutputKind.Forecast => options.ForecastTopic,
        (int)OutputKind.Anomaly => options.AnomalyTopic,
        _ => options.DeadLetterTopic,
    };

    /// <summary>Starts counting a new transaction's records.</summary>
    public void ResetProduced()
    {
        Produced = 0;
        Array.Clear(ProducedByTarget);
    }

    /// <summary>The producer's <c>message.max.bytes</c>: librdkafka refuses a larger record at once.</summary>
    public int ProducerLimit { get; }

    /// <summary>
    /// Largest output or dead letter produced, at most <see cref="ProducerLimit"/>; lowered when the broker rejects a
    /// record as too large (its topic limit is below the producer's).
    /// </summary>
    public int OutputLimit { get; set; }

    /// <summary>Outputs of the current input record that were not produced because they exceed <see cref="OutputLimit"/>.</summary>
    public int DroppedOutputs { get; private set; }

    /// <summary>Size of the largest output dropped for the current input record.</summary>
    public int LargestDropped { get; private set; }

    /// <summary>Size of the largest output or dead letter produced in the current transaction.</summary>
    public int LargestOutput { get; set; }

    /// <summary>Starts a new input record: forgets the previous record's dropped outputs.</summary>
    public void BeginRecord()
    {
        DroppedOutputs = 0;
        LargestDropped = 0;
    }

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
        var size = Size(key.Length, record.Length, StampHeaders() is null ? 0 : stampHeadersSize);
        if (size > OutputLimit || !TryProduceCopy(target, key, values.Copy(record), CurrentTimestamp))
        {
            DroppedOutputs++;
            LargestDropped = Math.Max(LargestDropped, size);
            return;
        }

        ProducedByTarget[(int)kind]++;
        LargestOutput = Math.Max(LargestOutput, size);
        tap?.Invoke(kind, streamId, record);
    }

    /// <summary>
    /// Produces one changelog-style record (no timestamp: the broker's time) with the transaction stamp, copying key
    /// and value into reused arrays; the spans may be reused by the caller as soon as this returns. Returns false (and
    /// produces nothing) when the record exceeds the producer's message size.
    /// </summary>
    public bool ProduceState(TopicPartition target, ReadOnlySpan<char> key, ReadOnlySpan<byte> value)
    {
        // Sized to the id (a stream id is at most MaxStreamIdBytes of UTF-8, three bytes per char at most): stackalloc
        // clears what it reserves, once per record.
        Span<byte> keyBytes = stackalloc byte[Math.Min(key.Length * 3, ChangelogKeys.MaxStreamIdBytes)];
        var keyArray = Encoding.UTF8.TryGetBytes(key, keyBytes, out var n) ? keys.Copy(keyBytes[..n]) : Encoding.UTF8.GetBytes(key.ToString());
        return Size(keyArray.Length, value.Length, StampHeaders() is null ? 0 : stampHeadersSize) <= ProducerLimit
            && TryProduceCopy(target, keyArray, values.Copy(value), default);
    }

    /// <summary>Produces a tombstone (null value) for a stream in the changelog, with the transaction stamp.</summary>
    public void ProduceTombstone(TopicPartition target, string key)
    {
        message.Key = Encoding.UTF8.GetBytes(key);
        message.Value = null!;
        message.Timestamp = default;
        message.Headers = StampHeaders();
        TryProduce(target, message);
    }

    /// <summary>Produces one record with the transaction stamp through the reused message object.</summary>
    public void ProduceCopy(TopicPartition target, byte[] key, byte[] value, Timestamp timestamp) => TryProduceCopy(target, key, value, timestamp);

    public void DeadLetter(in DeadLetter letter)
    {
        var reason = letter.Message.Length <= MaxMessageHeaderChars ? letter.Message : string.Concat(letter.Message.AsSpan(0, MaxMessageHeaderChars), "...");
        var headers = new Headers
        {
            { DeadLetterHeaders.Kind, Encoding.UTF8.GetBytes(DeadLetterReasons.Name(letter.Reason)) },
            { DeadLetterHeaders.Message, Encoding.UTF8.GetBytes(reason) },
            { DeadLetterHeaders.SourceTopic, Encoding.UTF8.GetBytes(letter.Source.Source) },
            { DeadLetterHeaders.SourcePartition, Encoding.UTF8.GetBytes(letter.Source.Partition.ToString(CultureInfo.InvariantCulture)) },
            { DeadLetterHeaders.SourceOffset, Encoding.UTF8.GetBytes(letter.Source.Offset.ToString(CultureInfo.InvariantCulture)) },
        };
        headers = Stamp(headers)!;
        // A record without a key or without a value (a tombstone) keeps it so: an empty array is another record.
        var key = CurrentKey;
        var value = letter.Original;
        var nullValue = value.IsEmpty && CurrentValueIsNull;
        var size = Size(key?.Length ?? 0, value.Length, HeadersSize(headers));
        if (size > OutputLimit)
        {
            // Cut to fit, the stream id first, and say what was cut: the leading bytes are what a reader needs to find
            // the source record (its partition and offset are in the headers too).
            headers.Add(DeadLetterHeaders.Truncated, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"key={key?.Length ?? 0};value={value.Length}")));
            var room = Math.Max(0, OutputLimit - Size(0, 0, HeadersSize(headers)));
            var keyKept = Math.Min(key?.Length ?? 0, room);
            key = key?[..keyKept];
            value = value[..Math.Min(value.Length, room - keyKept)];
            size = Size(key?.Length ?? 0, value.Length, HeadersSize(headers));
        }

        var deadLetter = new Message<byte[], byte[]> { Key = key!, Value = nullValue ? null! : value.ToArray(), Headers = headers, Timestamp = CurrentTimestamp };
        if (!TryProduce(new TopicPartition(options.DeadLetterTopic, Partition.Any), deadLetter))
        {
            // The size estimate and librdkafka disagree: keep the headers alone, which always fit.
            deadLetter.Key = [];
            deadLetter.Value = [];
            if (TryProduce(new TopicPartition(options.DeadLetterTopic, Partition.Any), deadLetter))
            {
                ProducedByTarget[DeadLetterSlot]++;
            }
        }
        else
        {
            ProducedByTarget[DeadLetterSlot]++;
        }

        LargestOutput = Math.Max(LargestOutput, size);
    }

    /// <summary>Produces one record, waiting for queue space when the local queue is full.</summary>
    public void Produce(string topic, Message<byte[], byte[]> message) => TryProduce(new TopicPartition(topic, Partition.Any), message);

    /// <summary>
    /// Produces one record to a given partition, waiting for queue space when the local queue is full; false when
    /// librdkafka refuses it as larger than <c>message.max.bytes</c> (nothing is produced and the transaction is intact).
    /// </summary>
    public bool TryProduce(TopicPartition target, Message<byte[], byte[]> message)
    {
        while (true)
        {
            try
            {
                producer.Produce(target, message);
                Produced++;
                return true;
            }
            catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(20));
            }
            catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.MsgSizeTooLarge)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// A record's size as librdkafka checks it against <c>message.max.bytes</c>: its largest per-record overhead plus
    /// key, value and serialised headers.
    /// </summary>
    public static int Size(int keyBytes, int valueBytes, int headerBytes) => RecordOverhead + keyBytes + valueBytes + headerBytes;

    /// <summary>Serialised size of headers in a v2 record: per header, two varint lengths, the name and the value.</summary>
    public static int HeadersSize(Headers headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var size = 0;
        foreach (var h in headers)
        {
            var name = Encoding.UTF8.GetByteCount(h.Key);
            var value = h.GetValueBytes()?.Length ?? 0;
            size += VarintSize(name) + name + VarintSize(value) + value;
        }

        return size;
    }

    private bool TryProduceCopy(TopicPartition target, byte[] key, byte[] value, Timestamp timestamp)
    {
        message.Key = key;
        message.Value = value;
        message.Timestamp = timestamp;
        message.Headers = StampHeaders();
        return TryProduce(target, message);
    }

    /// <summary>Bytes of a zig-zag varint (Kafka's record field lengths).</summary>
    private static int VarintSize(int n)
    {
        var zigzag = (uint)n << 1;
        var bytes = 1;
        while (zigzag >= 0x80)
        {
            zigzag >>= 7;
            bytes++;
        }

        return bytes;
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
            stampHeadersSize = HeadersSize(stampHeaders);
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
        Span<byte> buffer = stackalloc byte[Math.Min(key.Length, ChangelogKeys.MaxStreamIdBytes)];
        return Encoding.UTF8.TryGetBytes(id, buffer, out var n) && buffer[..n].SequenceEqual(key);
    }
}
