namespace StreamSeq.Kafka.Transport;

/// <summary>
/// One reusable array per length, for handing bytes to <c>IProducer.Produce</c>: the producer takes a whole
/// <c>byte[]</c> (its length is the record's length) and copies it into librdkafka before returning, so the same array
/// can carry the next record of that length. Lengths above <see cref="MaxCachedLength"/> get a fresh array.
/// </summary>
/// <remarks>Not thread-safe: one instance per producing loop, and one instance per message part (key, value).</remarks>
internal sealed class ExactSizeBuffers
{
    /// <summary>Longest length kept (a few KiB covers the stream states and output records of every model family).</summary>
    public const int MaxCachedLength = 4096;

    private readonly byte[]?[] byLength = new byte[]?[MaxCachedLength + 1];

    /// <summary>An array of exactly <paramref name="content"/>'s length holding a copy of it, valid until the next call with that length.</summary>
    public byte[] Copy(ReadOnlySpan<byte> content)
    {
        if (content.Length > MaxCachedLength)
        {
            return content.ToArray();
        }

        var buffer = byLength[content.Length] ??= new byte[content.Length];
        content.CopyTo(buffer);
        return buffer;
    }
}
