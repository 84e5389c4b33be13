using nietras.SeparatedValues;

namespace StreamSeq.Processing.Records;

/// <summary>
/// The product's one CSV dialect, for every reader of observation and NAB files: RFC 4180 with a header row, comma
/// separated, quotes unescaped (a quoted field may hold commas, doubled quotes and line breaks), white space around
/// cells trimmed, and the column count checked by the caller so a short or long row is reported with its line.
/// </summary>
public static class CsvFiles
{
    /// <summary>Opens a reader over decoded text; the header row is read at once.</summary>
    /// <exception cref="FormatException">The header cannot be used (a column name appears twice, or it is longer than the
    /// reader's 16 MiB limit for a row); the message names the file.</exception>
    public static SepReader Open(TextReader text, string file)
    {
        try
        {
            return Sep.New(',').Reader(o => o with
            {
                HasHeader = true,
                Unescape = true,
                Trim = SepTrim.All,
                DisableColCountCheck = true,
            }).From(text);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidDataException)
        {
            text?.Dispose();
            throw new FormatException($"{file}:1: {e.Message}", e);
        }
    }

    /// <summary>Advances to the next row; false at the end, or with <paramref name="error"/> when the text cannot be read.</summary>
    public static bool MoveNext(SepReader reader, string file, out string? error)
    {
        error = null;
        try
        {
            return reader.MoveNext();
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or ArgumentException)
        {
            error = $"{file}: cannot read the CSV: {e.Message}";
            return false;
        }
    }

    /// <summary>True for a blank line (one empty column).</summary>
    public static bool IsBlank(SepReader.Row row) => row.ColCount == 1 && row[0].Span.IsWhiteSpace();
}
