using System.Globalization;

namespace StreamSeq.Estimation.Tests.Support;

/// <summary>Reads an oracle CSV (header line, invariant-culture numbers, NaN/Infinity literals) by column name.</summary>
internal sealed class OracleCsv
{
    private readonly Dictionary<string, double[]> columns = new(StringComparer.Ordinal);

    private OracleCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        var rows = lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(',')).ToArray();
        RowCount = rows.Length;
        for (var r = 0; r < rows.Length; r++)
        {
            if (rows[r].Length != header.Length)
            {
                throw new InvalidDataException($"{path}: data row {r + 1} has {rows[r].Length} cells, the header {header.Length}");
            }
        }

        for (var c = 0; c < header.Length; c++)
        {
            var values = new double[rows.Length];
            for (var r = 0; r < rows.Length; r++)
            {
                values[r] = Parse(rows[r][c], path, r, header[c]);
            }

            columns[header[c]] = values;
        }
    }

    public int RowCount { get; }

    /// <summary>
    /// A cell as a double, strictly: Python-repr numbers, and the literal tokens the fixtures use for missing and
    /// infinite values (<c>NaN</c>, numpy's <c>nan</c>, <c>Infinity</c>, <c>-Infinity</c>). Anything else (an empty
    /// cell, a word, a malformed number) throws rather than becoming a NaN that a comparison would skip.
    /// </summary>
    internal static double Parse(string cell, string path, int row, string column)
    {
        switch (cell)
        {
            case "NaN" or "nan":
                return double.NaN;
            case "Infinity":
                return double.PositiveInfinity;
            case "-Infinity":
                return double.NegativeInfinity;
        }

        if (cell.Length == 0 || cell.Any(ch => char.IsLetter(ch) && ch is not ('e' or 'E')))
        {
            throw new InvalidDataException($"{path}: data row {row + 1}, column {column}: '{cell}' is not a number");
        }

        try
        {
            return double.Parse(cell, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"{path}: data row {row + 1}, column {column}: '{cell}' is not a number", e);
        }
    }

    public IEnumerable<string> Columns => columns.Keys;

    public static OracleCsv Load(params string[] relative) =>
        new(Path.Combine([AppContext.BaseDirectory, "Fixtures", .. relative]));

    public double[] this[string column] =>
        columns.TryGetValue(column, out var v) ? v : throw new KeyNotFoundException($"column {column} not in fixture");

    public bool Has(string column) => columns.ContainsKey(column);

    /// <summary>Row r of the row-major matrix flattened into columns prefix_ij.</summary>
    public double[] Matrix(string prefix, int row, int rows, int cols)
    {
        var m = new double[rows * cols];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < cols; j++)
            {
                m[(i * cols) + j] = this[$"{prefix}_{i}{j}"][row];
            }
        }

        return m;
    }

    /// <summary>Row r of vector columns prefix_i (i from <paramref name="first"/>).</summary>
    public double[] Vector(string prefix, int row, int length, int first = 0)
    {
        var v = new double[length];
        for (var i = 0; i < length; i++)
        {
            v[i] = this[$"{prefix}_{i + first}"][row];
        }

        return v;
    }
}
