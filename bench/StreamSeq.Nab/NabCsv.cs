using System.Globalization;
using StreamSeq.Processing.Records;

namespace StreamSeq.Nab;

/// <summary>Reads NAB's comma-separated files with the product's CSV dialect (<see cref="CsvFiles"/>; a header line names the columns).</summary>
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

    /// <summary>Reads the named columns of a CSV file as strings, one array per column (the product's CSV dialect).</summary>
    /// <exception cref="InvalidDataException">The file is empty, lacks a column or has a short row.</exception>
    internal static string[][] ReadColumns(string path, params string[] columnNames)
    {
        nietras.SeparatedValues.SepReader reader;
        try
        {
            reader = CsvFiles.Open(new StreamReader(path), path);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException(e.Message, e);
        }

        using var disposeReader = reader;
        if (reader.Header.IsEmpty)
        {
            throw new InvalidDataException($"{path}: empty file, expected a header line.");
        }

        var names = reader.Header.ColNames;
        var indices = new int[columnNames.Length];
        for (var c = 0; c < columnNames.Length; c++)
        {
            indices[c] = names.ToList().FindIndex(n => string.Equals(n, columnNames[c], StringComparison.Ordinal));
            if (indices[c] < 0)
            {
                throw new InvalidDataException($"{path}: header '{string.Join(",", names)}' has no column '{columnNames[c]}'.");
            }
        }

        var columns = new List<string>[columnNames.Length];
        for (var c = 0; c < columns.Length; c++)
        {
            columns[c] = [];
        }

        var needed = indices.Max() + 1;
        while (CsvFiles.MoveNext(reader, path, out var error) || error is not null)
        {
            if (error is not null)
            {
                throw new InvalidDataException(error);
            }

            var row = reader.Current;
            if (CsvFiles.IsBlank(row))
            {
                continue;
            }

            if (row.ColCount < needed)
            {
                throw new InvalidDataException($"{path}:{row.LineNumberFrom}: {row.ColCount} fields, expected at least {needed}.");
            }

            for (var c = 0; c < columns.Length; c++)
            {
                columns[c].Add(row[indices[c]].ToString());
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
