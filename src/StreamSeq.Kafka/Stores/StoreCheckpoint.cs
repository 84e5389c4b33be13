using System.Buffers.Binary;
using System.Text;

namespace StreamSeq.Kafka.Stores;

/// <summary>
/// How far a partition's local store is complete: every committed transaction whose changelog records precede
/// <see cref="ChangelogOffset"/> is in it (it may hold later ones too), and <see cref="InputOffset"/> is the input
/// offset after the newest of them.
/// </summary>
/// <param name="ChangelogOffset">Where a restore reads the changelog from.</param>
/// <param name="InputOffset">The next input offset as of that changelog offset (the newest offset marker before it).</param>
/// <param name="InputTopic">The input topic whose markers the store followed.</param>
internal sealed record StoreCheckpoint(long ChangelogOffset, long InputOffset, string InputTopic)
{
    private const byte Version = 1;

    /// <summary>The stored form: version, changelog offset, input offset, input topic (UTF-8).</summary>
    public byte[] ToBytes()
    {
        var topic = Encoding.UTF8.GetBytes(InputTopic);
        var bytes = new byte[17 + topic.Length];
        bytes[0] = Version;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), ChangelogOffset);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(9), InputOffset);
        topic.CopyTo(bytes.AsSpan(17));
        return bytes;
    }

    /// <summary>Reads the stored form; null when it is not one this version wrote.</summary>
    public static StoreCheckpoint? Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 17 || bytes[0] != Version)
        {
            return null;
        }

        var changelog = BinaryPrimitives.ReadInt64LittleEndian(bytes[1..]);
        var input = BinaryPrimitives.ReadInt64LittleEndian(bytes[9..]);
        return changelog < 0 || input < 0 ? null : new StoreCheckpoint(changelog, input, Encoding.UTF8.GetString(bytes[17..]));
    }
}
