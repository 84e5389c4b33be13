using nietras.SeparatedValues;

namespace StreamSeq.Processing.Records;

/// <summary>
/// Reads observation CSV files: a header <c>stream,time,&lt;one column per observed component&gt;</c>, optionally
/// followed by control columns (named <c>control_*</c>, or named by the caller). Cells follow
/// <see cref="InputRules"/>: an empty cell or <c>NaN</c> is a missing component, anything else must be a finite
/// number. A numeric time is in model time units; anything else must be ISO-8601. NAB's <c>timestamp</c> column is the
/// time when no column is named <c>time</c>. Without a <c>stream</c> column
/// every row belongs to one stream named after the file. Bad rows are reported with file and line, and reading
/// continues.
/// </summary>
/// <remarks>
/// Parsing is RFC 4180 (Sep): quoted fields may hold commas, doubled quotes and line breaks; white space around a
/// cell is ignored; blank lines are skipped. Rows are parsed in place: no allocation per row for valid rows. A row
/// longer than <see cref="CsvRowLimit.MaxRowLength"/> characters (16 MiB less 64 KiB) is reported with its file and line
/// (<see cref="LastRowTooLong"/>) and skipped to its end, as the JSON Lines reader does with an over-long line, and reading
/// goes on with the next row; a header that long fails.
/// </remarks>
public sealed class CsvObservationReader : IDisposable
{
    private readonly CsvRows rows;
    private readonly string file;
    private readonly bool hasStream;
    private readonly int timeColumn;
    private readonly string timeName;
    private readonly int[] valueColumns;
    private readonly int[] controlColumns;
    private readonly double[] values;
    private readonly double[] control;
    private readonly string defaultStream;
    private readonly char[] streamChars = new char[InputRules.MaxStreamIdBytes];
    private bool hasRow;

    /// <summary>Opens a reader; the header is read and checked immediately.</summary>
    /// <param name="reader">The text (decoded).</param>
    /// <param name="file">The file name used in messages.</param>
    /// <param name="controlNames">Columns that hold control inputs rather than readings (besides <c>control_*</c>).</param>
    /// <exception cref="FormatException">The header is missing, has no time column, has a column other than <c>stream</c>
    /// before the time, or names an unknown control column.</exception>
    public CsvObservationReader(TextReader reader, string file, IReadOnlyCollection<string>? controlNames = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        this.file = file;
        rows = new CsvRows(reader, file);
        if (rows.Header.IsEmpty)
        {
            rows.Dispose();
            throw new FormatException($"{file}:1: file is empty (expected a header 'stream,time,<values...>').");
        }

        var names = rows.Header.ColNames.Select(h => h.Trim()).ToArray();
        if (names.All(n => n.Length == 0))
        {
            rows.Dispose();
            throw new FormatException($"{file}:1: the first line is blank; it must be the header 'stream,time,<values...>'.");
        }

        hasStream = names.Length > 0 && names[0] == "stream";
        // NAB's files name their time column 'timestamp': taken as the time when no column is named 'time', so a NAB
        // file replays through 'run' and 'fit' as it is.
        timeColumn = Array.IndexOf(names, "time");
        if (timeColumn < 0)
        {
            timeColumn = Array.IndexOf(names, "timestamp");
        }

        if (timeColumn < 0)
        {
            rows.Dispose();
            throw new FormatException($"{file}:1: header has no 'time' column (expected 'stream,time,<values...>'; NAB's 'timestamp' is taken too).");
        }

        timeName = names[timeColumn];

        // Only the stream column may come before the time: any other column there was ignored, so a misspelt 'stream'
        // made every row one stream named after the file and mixed several sensors into one series.
        if (timeColumn > (hasStream ? 1 : 0))
        {
            rows.Dispose();
            throw new FormatException($"{file}:1: column '{names[hasStream ? 1 : 0]}' comes before the time column and is not 'stream' (expected 'stream,{timeName},<values...>', or '{timeName},<values...>' for one stream named after the file).");
        }

        controlNames ??= [];
        foreach (var name in controlNames.Where(n => !names.Contains(n, StringComparer.Ordinal)))
        {
            rows.Dispose();
            throw new FormatException($"{file}:1: control column '{name}' is not in the header ({string.Join(",", names)}).");
        }

        // The stream and time columns are never values: named as control inputs, they were silently ignored.
        foreach (var name in controlNames.Where(n => n == names[timeColumn] || (hasStream && n == names[0])))
        {
            rows.Dispose();
            throw new FormatException($"{file}:1: control column '{name}' is the {(name == names[timeColumn] ? "time" : "stream")} column, not a control input.");
        }

        bool IsControl(int i) => names[i].StartsWith("control_", StringComparison.Ordinal) || controlNames.Contains(names[i], StringComparer.Ordinal);
        var first = Math.Max(timeColumn + 1, hasStream ? 1 : 0);
        valueColumns = [.. Enumerable.Range(first, names.Length - first).Where(i => !IsControl(i))];
        controlColumns = [.. Enumerable.Range(first, names.Length - first).Where(IsControl)];
        if (valueColumns.Length == 0)
        {
            rows.Dispose();
            throw new FormatException($"{file}:1: header has no value columns after '{timeName}'.");
        }

        ColumnCount = names.Length;
        ValueNames = [.. valueColumns.Select(i => names[i])];
        ControlNames = [.. controlColumns.Select(i => names[i])];
        values = new double[valueColumns.Length];
        control = new double[controlColumns.Length];
        defaultStream = Path.GetFileNameWithoutExtension(file);
    }

    /// <summary>The observed components' column names.</summary>
    public IReadOnlyList<string> ValueNames { get; }

    /// <summary>The control inputs' column names.</summary>
    public IReadOnlyList<string> ControlNames { get; }

    /// <summary>Columns per row.</summary>
    public int ColumnCount { get; }

    /// <summary>The file line where the last row read (or rejected) starts.</summary>
    public long Line { get; private set; } = 1;

    /// <summary>True when the row last rejected was longer than the limit (<see cref="CsvRowLimit.MaxRowLength"/>
    /// characters, 16 MiB less 64 KiB): it was skipped to its end, and reading went on with the next row.</summary>
    public bool LastRowTooLong { get; private set; }

    /// <summary>
    /// The text of the row last read or rejected, as decoded (a byte that is not UTF-8 is U+FFFD); empty for a row over
    /// the limit, which is not kept, and for text the parser could not read. Valid until the next call of
    /// <see cref="Read"/>; for a dead letter's original row, so taken only when a row is rejected.
    /// </summary>
    public ReadOnlySpan<char> RowText => hasRow ? rows.Current.Span : default;

    /// <summary>Reads the next row.</summary>
    /// <param name="record">The record (valid until the next call).</param>
    /// <param name="error">The problem with a bad row, naming file, line and column.</param>
    /// <returns><see cref="CsvReadStatus.End"/> at the end of the file.</returns>
    public CsvReadStatus Read(out InputRecord record, out string? error)
    {
        record = default;
        var next = rows.Next(out var problem);
        Line = rows.Line;
        LastRowTooLong = rows.LastRowTooLong;
        hasRow = next == CsvReadStatus.Record;
        if (next != CsvReadStatus.Record)
        {
            error = next == CsvReadStatus.Error ? $"{Where()}: {problem}" : null;
            return next;
        }

        var row = rows.Current;
        var status = ReadRow(row, out record, out error);
        if (status == CsvReadStatus.Error && row.LineNumberToExcl - row.LineNumberFrom > 1)
        {
            // A quoted cell holding line breaks: most often a quote left open, which takes the lines after it along.
            error = $"{error} The row runs on over the next line(s) inside a quoted cell, and they are not read as rows: is a quote left open?";
        }

        return status;
    }

    /// <inheritdoc />
    public void Dispose() => rows.Dispose();

    private CsvReadStatus ReadRow(SepReader.Row row, out InputRecord record, out string? error)
    {
        record = default;
        if (row.ColCount != ColumnCount)
        {
            error = $"{Where()}: has {row.ColCount} columns, the header has {ColumnCount}.";
            return CsvReadStatus.Error;
        }

        ReadOnlySpan<char> stream = defaultStream;
        if (hasStream)
        {
            var cell = row[0].Span;
            if (cell.IsWhiteSpace())
            {
                error = $"{Where()}: column 'stream' is empty.";
                return CsvReadStatus.Error;
            }

            if (cell.Contains('\uFFFD'))
            {
                error = $"{Where()}: column 'stream' is not valid UTF-8.";
                return CsvReadStatus.Error;
            }

            if (cell.Contains('\0'))
            {
                error = $"{Where()}: column 'stream' contains a NUL byte.";
                return CsvReadStatus.Error;
            }

            if (InputRules.StreamIdTooLong(cell, "column 'stream'") is { } tooLong)
            {
                error = $"{Where()}: {tooLong}";
                return CsvReadStatus.Error;
            }

            cell.CopyTo(streamChars);
            stream = streamChars.AsSpan(0, cell.Length);
        }

        if (!InputRules.TryParseTime(row[timeColumn].Span, out var time, out var problem))
        {
            error = $"{Where()}: column '{timeName}' {problem}.";
            return CsvReadStatus.Error;
        }

        if (!ParseCells(row, valueColumns, values, ValueNames, out error) || !ParseCells(row, controlColumns, control, ControlNames, out error))
        {
            return CsvReadStatus.Error;
        }

        record = new InputRecord(stream, time, values, SourcePosition.FileLine(file, Line), control);
        return CsvReadStatus.Record;
    }

    private bool ParseCells(SepReader.Row row, int[] columns, double[] target, IReadOnlyList<string> names, out string? error)
    {
        for (var i = 0; i < columns.Length; i++)
        {
            if (!InputRules.TryParseReading(row[columns[i]].Span, out target[i], out var problem))
            {
                error = $"{Where()}: column {columns[i] + 1} ('{names[i]}'): {problem}.";
                return false;
            }
        }

        error = null;
        return true;
    }

    /// <summary>File and line of the current row, for messages: formatted only when a row is rejected, not per row.</summary>
    private string Where() => $"{file}:{Line}";
}
