using System.Globalization;
using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Tests.Support;

/// <summary>Reads the user-facing examples (examples/*.json + *.csv) from the repository root.</summary>
internal static class ExampleFiles
{
    public static string PathOf(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "examples", name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"examples/{name} not found above {AppContext.BaseDirectory}");
    }

    /// <summary>The CSV's series per stream (header stream,time,&lt;components&gt;; empty cell = missing).</summary>
    public static Dictionary<string, ObservationSeries> Series(string name)
    {
        var lines = File.ReadAllLines(PathOf(name)).Where(l => l.Length > 0).ToArray();
        var header = lines[0].Split(',');
        Assert.Equal(["stream", "time"], header[..2]);
        var m = header.Length - 2;
        return lines.Skip(1)
            .Select(l => l.Split(','))
            .GroupBy(f => f[0])
            .ToDictionary(
                g => g.Key,
                g => new ObservationSeries(m, g.SelectMany(f => f[2..].Select(c => c.Length == 0 ? double.NaN : double.Parse(c, CultureInfo.InvariantCulture))).ToArray()));
    }
}
