using System.Buffers.Binary;
using System.Text;

namespace StreamSeq.Kafka.Transport;

/// <summary>
/// Keys and values of the state changelog. A stream's state is keyed by its id; each input partition's next offset
/// is keyed by a reserved key that starts with a NUL character (stream ids may not), so compaction keeps only the
/// latest of each.
/// </summary>
public static class ChangelogKeys
{
    private const char Reserved = '\0';

    /// <summary>
    /// Header carried by every record a transaction writes (outputs, dead letters, changelog): the transaction id
    /// <c>instance/incarnation/sequence</c> and the input partition, <c>.../p</c>. Restore trusts a changelog state record only
    /// when the offset marker of the same transaction follows it in that partition, so state written by a transaction
    /// that never committed is ignored even by brokers that show aborted records.
    /// </summary>
    public const string TransactionHeader = "streamseq.txn";

    /// <summary>True when a stream id is usable (non-empty and not starting with the reserved character).</summary>
    public static bool IsValidStreamId(ReadOnlySpan<char> id) => !id.IsEmpty && id[0] != Reserved;

    /// <summary>The key of an input partition's offset marker.</summary>
    public static byte[] OffsetKey(string inputTopic, int partition) =>
        Encoding.UTF8.GetBytes($"{Reserved}offset{Reserved}{inputTopic}{Reserved}{partition}");

    /// <summary>True when a changelog key is an offset marker.</summary>
    public static bool IsOffsetKey(ReadOnlySpan<byte> key) => !key.IsEmpty && key[0] == 0;

    /// <summary>Encodes a next offset.</summary>
    public static byte[] OffsetValue(long nextOffset)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, nextOffset);
        return bytes;
    }

    /// <summary>Decodes a next offset.</summary>
    public static long ReadOffset(ReadOnlySpan<byte> value) =>
        value.Length == 8 ? BinaryPrimitives.ReadInt64LittleEndian(value) : throw new FormatException("offset marker must be 8 bytes.");
}
