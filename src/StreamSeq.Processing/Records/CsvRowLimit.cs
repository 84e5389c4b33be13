namespace StreamSeq.Processing.Records;

/// <summary>
/// Passes CSV text through to the parser with every row cut to at most <see cref="MaxRowLength"/> characters, so that
/// a longer row is reported and skipped instead of failing the parser for the rest of the file (Sep throws at its 16 MiB
/// buffer, and again at every later call, on the same row). A cut row keeps its first characters, loses the rest up to
/// its end, and ends in one more column, <see cref="Marker"/>, that tells <see cref="CsvObservationReader"/> which row
/// was cut; its quote is closed so the parser ends the row where the file does.
/// </summary>
/// <remarks>
/// Rows end at a line break outside quotes, as the parser sees them (a quote anywhere in a cell opens or closes quoting);
/// the line breaks left out of a cut row are counted the parser's way (<c>\r\n</c> is one) in
/// <see cref="TryTakeCut"/>, so that the lines of the rows after it can be given as they are in the file. No
/// allocation after construction except a queue entry per cut row.
/// </remarks>
internal sealed class CsvRowLimit : TextReader
{
    /// <summary>The most characters of a row, line breaks inside quoted cells included and its ending line break not:
    /// 16 MiB less room the parser needs for its bookkeeping.</summary>
    public const int MaxRowLength = (16 << 20) - (64 << 10);

    /// <summary>The column that ends a cut row: noncharacters, which no text file holds by chance.</summary>
    public const string Marker = "\uFFFF\uFFFE\uFFFF";

    private const string CutInQuotes = "\"," + Marker;
    private const string Cut = "," + Marker;

    private readonly TextReader inner;
    private readonly char[] buffer = new char[1 << 16];
    private readonly Queue<long> cuts = new();
    private int position;
    private int length;
    private bool ended;
    private bool inQuotes;
    private bool lastWasCarriageReturn;
    private long rowLength;
    private long rowsEnded;
    private bool skipping;
    private bool cutInQuotes;
    private long droppedLines;
    private string tail = string.Empty;
    private int tailPosition;

    public CsvRowLimit(TextReader inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        this.inner = inner;
    }

    /// <summary>True when the first row (the header) was cut.</summary>
    public bool HeaderCut { get; private set; }

    /// <summary>Rows cut that the reader has not taken yet.</summary>
    public int PendingCuts => cuts.Count;

    /// <summary>Takes the oldest cut row: the number of line breaks the parser did not see in it.</summary>
    public bool TryTakeCut(out long droppedLineBreaks) => cuts.TryDequeue(out droppedLineBreaks);

    /// <inheritdoc />
    public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

    /// <inheritdoc />
    public override int Read()
    {
        Span<char> one = stackalloc char[1];
        return Read(one) == 0 ? -1 : one[0];
    }

    /// <inheritdoc />
    public override int Peek() => -1;

    /// <inheritdoc />
    public override int Read(Span<char> destination)
    {
        var written = 0;
        while (written < destination.Length)
        {
            if (tailPosition < tail.Length)
            {
                var n = Math.Min(tail.Length - tailPosition, destination.Length - written);
                tail.AsSpan(tailPosition, n).CopyTo(destination[written..]);
                tailPosition += n;
                written += n;
                continue;
            }

            if (position == length)
            {
                if (ended)
                {
                    if (skipping)
                    {
                        // The file ends inside the cut row.
                        EndCut();
                        continue;
                    }

                    break;
                }

                if (written > 0)
                {
                    // Hand over what is ready rather than wait on the underlying reader.
                    break;
                }

                length = inner.Read(this.buffer);
                position = 0;
                ended = length == 0;
                continue;
            }

            if (skipping)
            {
                Skip();
                continue;
            }

            if (rowLength == MaxRowLength && !IsRowEnd(this.buffer[position]))
            {
                skipping = true;
                cutInQuotes = inQuotes;
                droppedLines = 0;
                continue;
            }

            written += Pass(destination[written..]);
        }

        return written;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private bool IsRowEnd(char c) => !inQuotes && (c == '\n' || c == '\r');

    /// <summary>Copies characters of the current row (up to the limit) and row endings; returns how many.</summary>
    private int Pass(Span<char> destination)
    {
        var source = buffer.AsSpan(position, length - position);
        var limit = Math.Min(source.Length, destination.Length);
        var copied = 0;
        while (copied < limit)
        {
            var c = source[copied];
            if (IsRowEnd(c))
            {
                destination[copied++] = c;
                rowLength = 0;
                rowsEnded++;
                lastWasCarriageReturn = c == '\r';
                continue;
            }

            if (rowLength == MaxRowLength)
            {
                break;
            }

            if (c == '"' || c == '\n' || c == '\r')
            {
                inQuotes ^= c == '"';
                lastWasCarriageReturn = c == '\r';
                destination[copied++] = c;
                rowLength++;
                continue;
            }

            // A run of ordinary characters, copied at once.
            var span = source.Slice(copied, (int)Math.Min(limit - copied, MaxRowLength - rowLength));
            var run = span.IndexOfAny('"', '\n', '\r');
            run = run < 0 ? span.Length : run;
            span[..run].CopyTo(destination[copied..]);
            copied += run;
            rowLength += run;
            lastWasCarriageReturn = false;
        }

        position += copied;
        return copied;
    }

    /// <summary>Drops characters of a cut row up to its end, counting its line breaks as the parser would have.</summary>
    private void Skip()
    {
        while (position < length)
        {
            var c = buffer[position];
            if (c == '"')
            {
                inQuotes = !inQuotes;
                lastWasCarriageReturn = false;
            }
            else if (c == '\n' || c == '\r')
            {
                if (!inQuotes)
                {
                    // The row's own ending goes through, after the cut's closing column.
                    EndCut();
                    return;
                }

                droppedLines += c == '\n' && lastWasCarriageReturn ? 0 : 1;
                lastWasCarriageReturn = c == '\r';
            }
            else
            {
                lastWasCarriageReturn = false;
            }

            position++;
        }
    }

    private void EndCut()
    {
        skipping = false;
        if (rowsEnded == 0)
        {
            HeaderCut = true;
        }

        cuts.Enqueue(droppedLines);
        tail = cutInQuotes ? CutInQuotes : Cut;
        tailPosition = 0;
        inQuotes = false;
        lastWasCarriageReturn = false;
    }
}
