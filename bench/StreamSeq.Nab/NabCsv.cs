using System.Globalization;

namespace StreamSeq.Nab;

/// <summary>Minimal reader for NAB's comma-separated files (no quoting; a header line names the columns).</summary>
internal static class NabCsv
{
    private static readonly string[] TimestampFormats =
    [
        "yyyy-MM-dd HH:mm:ss",
        "yyyy-MM-dd HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd'T'HH:mm:ss",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd HH:mm",
    ];

    /// <summary>Parses a NAB timestamp ("2014-04-10 16:15:00", optionally with a fraction or an ISO 'T').</summary>
    internal static bool TryParseTimestamp(string text, out DateTime value) =>
        DateTime.TryParseExact(text.Trim(), TimestampFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out value);

    /// <summary>Reads the named columns of a CSV file as strings, one array per column.</summary>
    /// <exception cref="InvalidDataException">The file is empty, lacks a column or has a short row.</exception>
    internal static string[][] ReadColumns(string path, params string[] columnNames)
    {
        using var reader = new StreamReader(path);
        var header = reader.ReadLine() ?? throw new InvalidDataException($"{path}: empty file, expected a header line.");
        var names = header.Split(',');
        var indices = new int[columnNames.Length];
        for (var c = 0; c < columnNames.Length; c++)
        {
            indices[c] = Array.FindIndex(names, n => string.Equals(n.Trim(), columnNames[c], StringComparison.Ordinal));
            if (indices[c] < 0)
            {
                throw new InvalidDataException($"{path}: header '{header}' has no column '{columnNames[c]}'.");
            }
        }

        var columns = new List<string>[columnNames.Length];
        for (var c = 0; c < columns.Length; c++)
        {
            columns[c] = [];
        }

        var needed = indices.Max() + 1;
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            var fields = line.Split(',');
            if (fields.Length < needed)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: {fields.Length} fields, expected at least {needed}.");
            }

            for (var c = 0; c < columns.Length; c++)
            {
                columns[c].Add(fields[indices[c]]);
            }
        }

        return [.. columns.Select(c => c.ToArray())];
    }

    /// <summary>Parses a timestamp column; <paramref name="firstLine"/> is the file line of the first value.</summary>
    internal static DateTime[] ParseTimestamps(string path, string[] column, int firstLine = 2)
    {
        var values = new DateTime[column.Length];
        for (var i = 0; i < column.Length; i++)
        {
            if (!TryParseTimestamp(column[i], out values[i]))
            {
                throw new InvalidDataException($"{path}:{i + firstLine}: timestamp '{column[i]}' is not of the form yyyy-MM-dd HH:mm:ss.");
            }
        }

        return values;
    }

    /// <summary>Parses a column of finite doubles (invariant culture).</summary>
    internal static double[] ParseDoubles(string path, string columnName, string[] column, int firstLine = 2)
    {
        var values = new double[column.Length];
        for (var i = 0; i < column.Length; i++)
        {
            if (!double.TryParse(column[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
            {
                throw new InvalidDataException($"{path}:{i + firstLine}: {columnName} '{column[i]}' is not a finite number.");
            }
        }

        return values;
    }
}
