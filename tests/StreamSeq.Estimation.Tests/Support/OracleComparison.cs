using System.Globalization;
using System.Text;

namespace StreamSeq.Estimation.Tests.Support;

/// <summary>
/// Collects, per oracle column, the largest absolute difference and the column's scale (largest |expected|), so a
/// whole file can be judged by max |actual − expected| / scale and the deviations reported.
/// </summary>
internal sealed class OracleComparison
{
    private readonly Dictionary<string, (double MaxDiff, double Scale, int Row)> columns = new(StringComparer.Ordinal);

    public void Add(string column, int row, double expected, double actual)
    {
        var diff = Math.Abs(actual - expected);
        if (double.IsNaN(diff))
        {
            diff = double.PositiveInfinity;
        }

        columns.TryGetValue(column, out var c);
        var scale = Math.Max(c.Scale, Math.Abs(expected));
        columns[column] = diff > c.MaxDiff ? (diff, scale, row) : (c.MaxDiff, scale, c.Row);
    }

    public void Add(string prefix, int row, ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, bool matrix = false)
    {
        var dim = matrix ? (int)Math.Round(Math.Sqrt(expected.Length)) : expected.Length;
        for (var i = 0; i < expected.Length; i++)
        {
            var name = matrix ? $"{prefix}_{i / dim}{i % dim}" : $"{prefix}_{i}";
            Add(name, row, expected[i], actual[i]);
        }
    }

    /// <summary>The largest column deviation relative to its scale.</summary>
    public double MaxRelative => columns.Values.Max(c => c.MaxDiff / Math.Max(c.Scale, 1e-300));

    public string Report(string title)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{title}: max relative deviation {MaxRelative:G3}");
        foreach (var (name, c) in columns)
        {
            sb.Append(CultureInfo.InvariantCulture, $"\n  {name,-16} max|diff| {c.MaxDiff:G3} (row {c.Row + 1}), scale {c.Scale:G3}, relative {c.MaxDiff / Math.Max(c.Scale, 1e-300):G3}");
        }

        return sb.ToString();
    }

    public void AssertWithin(double relTol, string title)
    {
        foreach (var (name, c) in columns)
        {
            var rel = c.MaxDiff / Math.Max(c.Scale, 1e-300);
            Assert.True(rel <= relTol, $"{title}: column {name} deviates by {c.MaxDiff:G3} at row {c.Row + 1} ({rel:G3} of its scale {c.Scale:G3}; tolerance {relTol:G3})");
        }
    }
}
