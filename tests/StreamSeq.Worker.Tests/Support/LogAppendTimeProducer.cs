using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>
/// Writes one record batch to a partition with a plain Produce request (v3, record batch v2) whose attributes say
/// <c>LogAppendTime</c>, as Apache Kafka stores and serves every batch of a topic with
/// <c>message.timestamp.type=LogAppendTime</c>: consumers then see each record's timestamp as
/// <see cref="Confluent.Kafka.TimestampType.LogAppendTime"/>, the batch's maximum timestamp. No client library sends
/// such a batch (the broker stamps it), and the embedded broker has no topic settings, so the test speaks the protocol
/// over TCP to the partition's leader itself; the embedded broker stores the batch as it was sent.
/// </summary>
internal static class LogAppendTimeProducer
{
    private const short ProduceApiKey = 0;
    private const short ProduceVersion = 3;
    private const short LogAppendTimeAttribute = 0x08;

    /// <summary>
    /// Appends <paramref name="records"/> (key, value) as one batch stamped <paramref name="appendTimeMs"/> to
    /// <paramref name="topic"/>'s <paramref name="partition"/> at the broker <paramref name="leader"/> (<c>host:port</c>),
    /// and returns the batch's first offset.
    /// </summary>
    public static long Append(string leader, string topic, int partition, long appendTimeMs, IReadOnlyList<(byte[] Key, byte[] Value)> records)
    {
        var batch = Batch(appendTimeMs, records);
        var body = new List<byte>();
        Int16(body, ProduceApiKey);
        Int16(body, ProduceVersion);
        Int32(body, 1);
        String(body, "streamseq-test-log-append-time");
        Int16(body, -1); // transactional id: none
        Int16(body, -1); // acks: all
        Int32(body, 30_000);
        Int32(body, 1);
        String(body, topic);
        Int32(body, 1);
        Int32(body, partition);
        Int32(body, batch.Length);
        body.AddRange(batch);

        var separator = leader.LastIndexOf(':');
        using var client = new TcpClient(leader[..separator], int.Parse(leader[(separator + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        client.ReceiveTimeout = 30_000;
        var stream = client.GetStream();
        var request = new byte[4 + body.Count];
        BinaryPrimitives.WriteInt32BigEndian(request, body.Count);
        body.CopyTo(request, 4);
        stream.Write(request);

        var sizeBytes = new byte[4];
        stream.ReadExactly(sizeBytes);
        var response = new byte[BinaryPrimitives.ReadInt32BigEndian(sizeBytes)];
        stream.ReadExactly(response);

        // correlation id, topics [name, partitions [index, error, base offset, append time]], throttle time.
        var at = 4 + 4;
        at += 2 + BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(at)) + 4 + 4;
        var error = BinaryPrimitives.ReadInt16BigEndian(response.AsSpan(at));
        var baseOffset = BinaryPrimitives.ReadInt64BigEndian(response.AsSpan(at + 2));
        return error == 0 ? baseOffset : throw new InvalidOperationException($"the broker refused the LogAppendTime batch: error {error}");
    }

    private static byte[] Batch(long appendTimeMs, IReadOnlyList<(byte[] Key, byte[] Value)> records)
    {
        // From attributes on: what the CRC covers.
        var covered = new List<byte>();
        Int16(covered, LogAppendTimeAttribute);
        Int32(covered, records.Count - 1);
        Int64(covered, appendTimeMs);
        Int64(covered, appendTimeMs);
        Int64(covered, -1); // producer id
        Int16(covered, -1); // producer epoch
        Int32(covered, -1); // base sequence
        Int32(covered, records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            var record = new List<byte> { 0 };
            Varint(record, 0); // timestamp delta
            Varint(record, i); // offset delta
            Varint(record, records[i].Key.Length);
            record.AddRange(records[i].Key);
            Varint(record, records[i].Value.Length);
            record.AddRange(records[i].Value);
            Varint(record, 0); // headers
            Varint(covered, record.Count);
            covered.AddRange(record);
        }

        var batch = new List<byte>();
        Int64(batch, 0);
        Int32(batch, 4 + 1 + 4 + covered.Count); // leader epoch, magic, crc, the rest
        Int32(batch, -1);
        batch.Add(2);
        Int32(batch, unchecked((int)Crc32C([.. covered])));
        batch.AddRange(covered);
        return [.. batch];
    }

    private static uint Crc32C(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        return ~crc;
    }

    private static void Int16(List<byte> to, short v)
    {
        to.Add((byte)(v >> 8));
        to.Add((byte)v);
    }

    private static void Int32(List<byte> to, int v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b, v);
        to.AddRange(b);
    }

    private static void Int64(List<byte> to, long v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(b, v);
        to.AddRange(b);
    }

    private static void String(List<byte> to, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        Int16(to, (short)bytes.Length);
        to.AddRange(bytes);
    }

    private static void Varint(List<byte> to, long v)
    {
        var zigzag = (ulong)((v << 1) ^ (v >> 63));
        while (zigzag >= 0x80)
        {
            to.Add((byte)(zigzag | 0x80));
            zigzag >>= 7;
        }

        to.Add((byte)zigzag);
    }
}
