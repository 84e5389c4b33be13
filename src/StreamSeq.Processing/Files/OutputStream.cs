namespace StreamSeq.Processing.Files;

/// <summary>
/// The stream of an <see cref="AtomicFile"/>: writes go to the temporary file, and a failure (a full disk) is an
/// <see cref="OutputFileException"/> naming the destination, not the temporary file. Disposing it leaves the file
/// to its <see cref="AtomicFile"/>.
/// </summary>
internal sealed class OutputStream(Stream inner, string path, string? label) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => inner.CanSeek;

    public override bool CanWrite => true;

    public override long Length => inner.Length;

    public override long Position
    {
        get => inner.Position;
        set => inner.Position = value;
    }

    public override void Flush()
    {
        try
        {
            inner.Flush();
        }
        catch (Exception e) when (IsWriteError(e))
        {
            throw OutputFileException.For(path, e, label);
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

    public override void SetLength(long value)
    {
        try
        {
            inner.SetLength(value);
        }
        catch (Exception e) when (IsWriteError(e))
        {
            throw OutputFileException.For(path, e, label);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        try
        {
            inner.Write(buffer);
        }
        catch (Exception e) when (IsWriteError(e))
        {
            throw OutputFileException.For(path, e, label);
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>What the file system can throw for a write (EFBIG comes as <see cref="ArgumentOutOfRangeException"/>).</summary>
    internal static bool IsWriteError(Exception e) => e is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException;
}
