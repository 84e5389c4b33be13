using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using StreamSeq.Processing.Records;

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
    /// <c>instance/incarnation/sequence</c> and the input partition, <c>.../p</c>. On a broker that shows records of
    /// transactions that never committed (the embedded one), a reader counts a record as committed when the offset
    /// marker of its transaction and partition reached the changelog.
    /// </summary>
    public const string TransactionHeader = "streamseq.txn";

    /// <summary>
    /// Longest stream id (Kafka key of an input record) in UTF-8 bytes. Longer keys are dead-lettered: a stream's id is
    /// part of each of its output and changelog records, which must stay far below the broker's message size. The same
    /// limit as for every other input (<see cref="InputRules.MaxStreamIdBytes"/>: CSV files, JSON 'stream' fields).
    /// </summary>
    public const int MaxStreamIdBytes = InputRules.MaxStreamIdBytes;

    /// <summary>True when a stream id is usable (non-empty and not starting with the reserved character).</summary>
    public static bool IsValidStreamId(ReadOnlySpan<char> id) => !id.IsEmpty && id[0] != Reserved;

    /// <summary>
    /// Decodes an input record's key into a stream id, strictly: keys longer than <see cref="MaxStreamIdBytes"/>, keys
    /// that are not valid UTF-8 (which a lenient decoder would map to U+FFFD, so that different keys collide) and keys
    /// starting with a NUL character are refused with a one-line reason. Allocates nothing for a usable key.
    /// </summary>
    /// <param name="key">The key bytes.</param>
    /// <param name="destination">At least as many characters as the key has bytes, up to <see cref="MaxStreamIdBytes"/>.</param>
    /// <param name="length">Characters written.</param>
    /// <param name="problem">Why the key is refused.</param>
    public static bool TryDecodeStreamId(ReadOnlySpan<byte> key, Span<char> destination, out int length, out string? problem)
    {
        length = 0;
        if (key.Length > MaxStreamIdBytes)
        {
            problem = string.Create(CultureInfo.InvariantCulture, $"the stream id (record key) is {key.Length} bytes, above the limit of {MaxStreamIdBytes}.");
            return false;
        }

        if (Utf8.ToUtf16(key, destination, out var read, out length, replaceInvalidSequences: false) != OperationStatus.Done)
        {
            problem = string.Create(CultureInfo.InvariantCulture, $"the stream id (record key) is not valid UTF-8 (invalid sequence at byte {read}: 0x{key[read]:X2}).");
            return false;
        }

        if (length > 0 && destination[0] == Reserved)
        {
            problem = "stream ids must not start with a NUL character.";
            return false;
        }

        problem = null;
        return true;
    }

    /// <summary>
    /// Reads a changelog record's key as a stream id, as strictly as <see cref="TryDecodeStreamId"/> reads an input key,
    /// and refuses an empty key: a key no input record can have names no stream (another tool's record, a corrupted one).
    /// </summary>
    internal static bool TryReadStreamId(byte[] key, out string stream, out string problem)
    {
        stream = string.Empty;
        if (key.Length == 0)
        {
            problem = "the key is empty.";
            return false;
        }

        Span<char> chars = stackalloc char[Math.Min(key.Length, MaxStreamIdBytes)];
        if (!TryDecodeStreamId(key, chars, out var length, out var reason))
        {
            problem = reason!;
            return false;
        }

        stream = new string(chars[..length]);
        problem = string.Empty;
        return true;
    }

    /// <summary>The key of an input partition's offset marker.</summary>
    public static byte[] OffsetKey(string inputTopic, int partition) =>
        Encoding.UTF8.GetBytes($"{Reserved}offset{Reserved}{inputTopic}{Reserved}{partition}");

    /// <summary>A changelog key as shown in log lines: NULs (the reserved character) as '/', at most 200 bytes.</summary>
    internal static string KeyText(byte[] key)
    {
        var text = Encoding.UTF8.GetString(key, 0, Math.Min(key.Length, 200)).Replace(Reserved, '/');
        return key.Length > 200 ? text + "..." : text;
    }

    /// <summary>True when a changelog key is an offset marker.</summary>
    public static bool IsOffsetKey(ReadOnlySpan<byte> key) => !key.IsEmpty && key[0] == 0;

    /// <summary>Encodes a next offset.</summary>
    public static byte[] OffsetValue(long nextOffset)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, nextOffset);
        return bytes;
    }

    /// <summary>
    /// Decodes a next offset; false for a value that is not one (not 8 bytes, or negative). Such a value under a marker
    /// key closes nothing: the changelog falls back to the marker before it, as after an aborted transaction, instead of
    /// blocking every restore of the partition.
    /// </summary>
    public static bool TryReadOffset(ReadOnlySpan<byte> value, out long nextOffset)
    {
        nextOffset = value.Length == 8 ? BinaryPrimitives.ReadInt64LittleEndian(value) : -1;
        return nextOffset >= 0;
    }
}
