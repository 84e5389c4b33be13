using nietras.SeparatedValues;

namespace StreamSeq.Processing.Records;

/// <summary>
/// The rows of a CSV file in the product's dialect (<see cref="CsvFiles"/>), as every reader of observation and NAB files
/// takes them: blank lines skipped, each row with the file line it starts on, and a row longer than
/// <see cref="CsvRowLimit.MaxRowLength"/> characters reported as too long and skipped to its end
/// (<see cref="LastRowTooLong"/>), the rows after it keeping the lines they have in the file. Text the parser cannot
/// read is reported once, on the line it starts, and ends the rows.
/// </summary>
/// <remarks>No allocation per row for rows that are read; a message only for a row that is not.</remarks>
internal sealed class CsvRows : IDisposable
{
    private readonly SepReader reader;
    private readonly CsvRowLimit limit;
    private readonly string file;
    private long nextLine = 2;
    private long lineShift;

    /// <summary>Opens the text; the header row is read at once.</summary>
    /// <param name="text">The text (decoded); disposed with this.</param>
    /// <param name="file">The file name used in messages.</param>
    /// <exception cref="FormatException">The header cannot be used (a column name twice, or longer than the limit); the message names the file and line 1.</exception>
    public CsvRows(TextReader text, string file)
    {
        ArgumentNullException.ThrowIfNull(text);
        this.file = file;
        limit = new CsvRowLimit(text);
        reader = CsvFiles.Open(limit, file);
        if (limit.HeaderCut)
        {
            reader.Dispose();
            throw new FormatException($"{file}:1: the header is longer than the limit of {CsvRowLimit.MaxRowLength} characters.");
        }
    }

    /// <summary>The header row.</summary>
    public SepReaderHeader Header => reader.Header;

    /// <summary>The row read last (valid until the next call of <see cref="Next"/>).</summary>
    public SepReader.Row Current => reader.Current;

    /// <summary>The file line where the last row read (or rejected) starts.</summary>
    public long Line { get; private set; } = 1;

    /// <summary>True when the row last rejected was longer than the limit: it was skipped to its end, and the next
    /// call reads the row after it.</summary>
    public bool LastRowTooLong { get; private set; }

    /// <summary>True once the parser could not read the text: the rest of the file is not read.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Moves to the next row that is not blank.</summary>
    /// <param name="problem">For <see cref="CsvReadStatus.Error"/>: what is wrong with the row, without its file and
    /// line (those are <c>file</c> and <see cref="Line"/>).</param>
    /// <returns><see cref="CsvReadStatus.Record"/> with the row in <see cref="Current"/>; <see cref="CsvReadStatus.Error"/>
    /// for a row too long or text that cannot be read; <see cref="CsvReadStatus.End"/> at the end of the file.</returns>
    public CsvReadStatus Next(out string? problem)
    {
        problem = null;
        LastRowTooLong = false;
        SepReader.Row row;
        do
        {
            if (Stopped)
            {
                return CsvReadStatus.End;
            }

            if (!CsvFiles.MoveNext(reader, file, out var failure))
            {
                if (failure is null)
                {
                    return CsvReadStatus.End;
                }

                // The text cannot be read past this point (the parser fails again at every call, on the same row):
                // report it once, on the line it starts, and end there. Rows over the parser's 16 MiB buffer do not get
                // here: CsvRowLimit cuts them first.
                Stopped = true;
                Line = nextLine;
                problem = $"{failure[(file.Length + 2)..]} The rest of the file is not read.";
                return CsvReadStatus.Error;
            }

            row = reader.Current;
            Line = row.LineNumberFrom + lineShift;
            nextLine = row.LineNumberToExcl + lineShift;
        }
        while (CsvFiles.IsBlank(row));

        if (limit.PendingCuts > 0 && row[row.ColCount - 1].Span.SequenceEqual(CsvRowLimit.Marker) && limit.TryTakeCut(out var dropped))
        {
            // The line breaks of the row's cut part were not seen by the parser: the rows after it are that much further on.
            var runsOn = row.LineNumberToExcl - row.LineNumberFrom - 1 + dropped;
            lineShift += dropped;
            nextLine += dropped;
            LastRowTooLong = true;
            problem = runsOn == 0
                ? $"row is longer than the limit of {CsvRowLimit.MaxRowLength} characters."
                : $"row is longer than the limit of {CsvRowLimit.MaxRowLength} characters. It runs on over the next {runsOn} line(s) inside a quoted cell: is a quote left open?";
            return CsvReadStatus.Error;
        }

        return CsvReadStatus.Record;
    }

    /// <inheritdoc />
    public void Dispose() => reader.Dispose();
}
