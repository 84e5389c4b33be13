using System.Globalization;

namespace StreamSeq.Processing.Records;

/// <summary>
/// Reads observation CSV files: a header <c>stream,time,&lt;one column per observed component&gt;</c>, optionally
/// followed by <c>control_*</c> columns. An empty cell or <c>NaN</c> is a missing component. A numeric time is in model
/// time units; anything else must be ISO-8601. Without a <c>stream</c> column every row belongs to one stream named
/// after the file. Bad rows are reported with file and line, and reading continues.
/// </summary>
public sealed class CsvObservationReader : IDisposable
{
    private readonly TextReader reader;
    private readonly string file;
    private readonly bool hasStream;
    private readonly int timeColumn;
    private readonly int[] valueColumns;
    private readonly int[] controlColumns;
    private readonly double[] values;
    private readonly double[] control;
    private readonly string defaultStream;
    private readonly List<string> fields = [];
    private long line = 1;

    /// <summary>Opens a reader; the header is read and checked immediately.</summary>
    /// <exception cref="FormatException">The header is missing or has no time column.</exception>
    public CsvObservationReader(TextReader reader, string file)
    {
        ArgumentNullException.ThrowIfNull(reader);
        this.reader = reader;
        this.file = file;
        var header = reader.ReadLine() ?? throw new FormatException($"{file}:1: file is empty (expected a header 'stream,time,<values...>').");
        var names = Split(header, []).Select(h => h.Trim()).ToArray();
        hasStream = names.Length > 0 && names[0] == "stream";
        timeColumn = Array.IndexOf(names, "time");
        if (timeColumn < 0)
        {
            throw new FormatException($"{file}:1: header has no 'time' column (expected 'stream,time,<values...>').");
        }

        var first = Math.Max(timeColumn + 1, hasStream ? 1 : 0);
        valueColumns = [.. Enumerable.Range(first, names.Length - first).Where(i => !names[i].StartsWith("control_", StringComparison.Ordinal))];
        controlColumns = [.. Enumerable.Range(first, names.Length - first).Where(i => names[i].StartsWith("control_", StringComparison.Ordinal))];
        if (valueColumns.Length == 0)
        {
            throw new FormatException($"{file}:1: header has no value columns after 'time'.");
        }

        ColumnCount = names.Length;
        ValueNames = [.. valueColumns.Select(i => names[i])];
        values = new double[valueColumns.Length];
        control = new double[controlColumns.Length];
        defaultStream = Path.GetFileNameWithoutExtension(file);
    }

    /// <summary>The observed components' column names.</summary>
    public IReadOnlyList<string> ValueNames { get; }

    /// <summary>Columns per row.</summary>
    public int ColumnCount { get; }

    /// <summary>Reads the next row.</summary>
    /// <param name="record">The record (valid until the next call).</param>
    /// <param name="error">The problem with a bad row, naming file, line and column.</param>
    /// <returns><see cref="CsvReadStatus.End"/> at the end of the file.</returns>
    public CsvReadStatus Read(out InputRecord record, out string? error)
    {
        record = default;
        error = null;
        string? text;
        do
        {
            text = reader.ReadLine();
            line++;
            if (text is null)
            {
                return CsvReadStatus.End;
            }
        }
        while (text.Length == 0);

        Split(text, fields);
        var where = $"{file}:{line}";
        if (fields.Count != ColumnCount)
        {
            error = $"{where}: has {fields.Count} columns, the header has {ColumnCount}.";
            return CsvReadStatus.Error;
        }

        var stream = hasStream ? fields[0] : defaultStream;
        if (string.IsNullOrWhiteSpace(stream))
        {
            error = $"{where}: column 'stream' is empty.";
            return CsvReadStatus.Error;
        }

        var timeText = fields[timeColumn].Trim();
        RecordTime time;
        if (double.TryParse(timeText, NumberStyles.Float, CultureInfo.InvariantCulture, out var numeric))
        {
            if (!double.IsFinite(numeric))
            {
                error = $"{where}: column 'time' is not finite ('{timeText}').";
                return CsvReadStatus.Error;
            }

            time = new RecordTime(numeric, TimeFormat.ModelUnits);
        }
        else if (!RecordTime.TryParseIso(timeText, out time))
        {
            error = $"{where}: column 'time' is neither a number nor an ISO-8601 date-time ('{timeText}').";
            return CsvReadStatus.Error;
        }

        if (!ParseCells(valueColumns, values, where, out error) || !ParseCells(controlColumns, control, where, out error))
        {
            return CsvReadStatus.Error;
        }

        record = new InputRecord(stream, time, values, SourcePosition.FileLine(file, line), control);
        return CsvReadStatus.Record;
    }

    /// <inheritdoc />
    public void Dispose() => reader.Dispose();

    private bool ParseCells(int[] columns, double[] target, string where, out string? error)
    {
        for (var i = 0; i < columns.Length; i++)
        {
            var cell = fields[columns[i]].Trim();
            if (cell.Length == 0 || cell.Equals("NaN", StringComparison.OrdinalIgnoreCase) || cell.Equals("null", StringComparison.Ordinal))
            {
                target[i] = double.NaN;
            }
            else if (double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            {
                // Infinity is a missing value: a non-finite reading never enters the state.
                target[i] = double.IsFinite(v) ? v : double.NaN;
            }
            else
            {
                error = $"{where}: column {columns[i] + 1} ('{ValueNames.ElementAtOrDefault(i) ?? "control"}') is not a number: '{cell}'.";
                return false;
            }
        }

        error = null;
        return true;
    }

    private static List<string> Split(string text, List<string> into)
    {
        into.Clear();
        var i = 0;
        while (true)
        {
            if (i < text.Length && text[i] == '"')
            {
                var sb = new System.Text.StringBuilder();
                i++;
                while (i < text.Length)
                {
                    if (text[i] == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"')
                        {
                            sb.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    sb.Append(text[i++]);
                }

                into.Add(sb.ToString());
                var comma = text.IndexOf(',', i);
                if (comma < 0)
                {
                    return into;
                }

                i = comma + 1;
            }
            else
            {
                var comma = text.IndexOf(',', i);
                if (comma < 0)
                {
                    into.Add(text[i..]);
                    return into;
                }

                into.Add(text[i..comma]);
                i = comma + 1;
            }
        }
    }
}
