using System.Text.Unicode;

namespace StreamSeq.Cli.Io;

/// <summary>
/// Reads a JSON Lines file as raw UTF-8 lines with their line numbers, without decoding it to text first: a line that
/// is not valid UTF-8 or is longer than the record limit is reported as such (and skipped to its end) rather than
/// silently altered or read whole into memory. A UTF-8 byte-order mark and a carriage return before the newline are
/// ignored.
/// </summary>
internal sealed class JsonLinesReader : IDisposable
{
    private readonly Stream stream;
    private readonly int maxLineBytes;
    private byte[] buffer = new byte[1 << 16];
    private int start;
    private int end;
    private bool eof;
    private bool first = true;

    public JsonLinesReader(Stream stream, int maxLineBytes)
    {
        this.stream = stream;
        this.maxLineBytes = maxLineBytes;
    }

    /// <summary>The 1-based number of the line last returned.</summary>
    public long Line { get; private set; }

    /// <summary>True when the line last returned was cut for being longer than the limit (its problem says so).</summary>
    public bool LastLineTooLong { get; private set; }

    /// <summary>Bytes consumed so far (for progress).</summary>
    public long Position { get; private set; }

    /// <summary>Reads the next line.</summary>
    /// <param name="line">The line's bytes (valid until the next call): empty for a line too long, which is not kept;
    /// for a line that is not UTF-8, its bytes as they are, with <paramref name="problem"/> set.</param>
    /// <param name="problem">Why the line cannot be a record: too long, or not UTF-8.</param>
    /// <returns>False at the end of the file.</returns>
    public bool Read(out ReadOnlySpan<byte> line, out string? problem)
    {
        line = default;
        problem = null;
        var tooLong = false;
        while (true)
        {
            var newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var length = newline;
                var taken = buffer.AsSpan(start, length);
                start += newline + 1;
                Position += newline + 1;
                return Finish(taken, tooLong, out line, out problem);
            }

            if (eof)
            {
                if (end == start && !tooLong)
                {
                    return false;
                }

                var taken = buffer.AsSpan(start, end - start);
                Position += end - start;
                start = end;
                return Finish(taken, tooLong, out line, out problem);
            }

            if (end - start > maxLineBytes)
            {
                // Too long to be a record: drop what is buffered and keep dropping up to the next newline.
                tooLong = true;
                Position += end - start;
                start = end = 0;
            }

            Fill();
        }
    }

    public void Dispose() => stream.Dispose();

    private bool Finish(Span<byte> taken, bool tooLong, out ReadOnlySpan<byte> line, out string? problem)
    {
        Line++;
        line = default;
        problem = null;
        LastLineTooLong = false;
        if (first)
        {
            first = false;
            if (taken.StartsWith("\uFEFF"u8))
            {
                taken = taken[3..];
            }
        }

        if (tooLong || taken.Length > maxLineBytes)
        {
            LastLineTooLong = true;
            problem = $"line is longer than the limit of {maxLineBytes} bytes.";
            return true;
        }

        if (taken.Length > 0 && taken[^1] == (byte)'\r')
        {
            taken = taken[..^1];
        }

        if (!Utf8.IsValid(taken))
        {
            line = taken;
            problem = "line is not valid UTF-8.";
            return true;
        }

        line = taken;
        return true;
    }

    private void Fill()
    {
        if (start > 0)
        {
            buffer.AsSpan(start, end - start).CopyTo(buffer);
            end -= start;
            start = 0;
        }

        if (end == buffer.Length)
        {
            Array.Resize(ref buffer, Math.Max(buffer.Length, Math.Min(buffer.Length * 2, maxLineBytes + 2)));
        }

        var read = stream.Read(buffer, end, buffer.Length - end);
        if (read == 0)
        {
            eof = true;
        }

        end += read;
    }
}
