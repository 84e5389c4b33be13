using System.Globalization;
using System.Text;

namespace StreamSeq.Nab.Tests.Fixtures;

/// <summary>
/// A small NAB-layout corpus with values a detector can score: per category, files of noisy five-minute readings with
/// one spike in a labelled window (and, in category "quiet", no anomaly and no window), plus labels and profiles.
/// </summary>
internal static class SyntheticNabData
{
    /// <summary>Rows per file.</summary>
    internal const int Rows = 600;

    /// <summary>The row of each file's spike, inside its window (rows 440..480).</summary>
    internal const int SpikeRow = 460;

    /// <summary>Writes data/, labels/combined_windows.json and config/profiles.json under the folder.</summary>
    internal static void Write(TempFolder folder, IReadOnlyList<string> categories, int filesPerCategory)
    {
        var windows = new StringBuilder("{\n");
        var first = true;
        foreach (var (category, c) in categories.Select((name, c) => (name, c)))
        {
            for (var f = 0; f < filesPerCategory; f++)
            {
                var relative = $"{category}/file{f}.csv";
                var quiet = category == "quiet";
                folder.Write("data/" + relative, Data(seed: (c * 100) + f, spike: !quiet));
                windows.Append(first ? string.Empty : ",\n").Append("  \"").Append(relative).Append("\": ")
                    .Append(quiet ? "[]" : $"[[\"{SyntheticNabFolder.Timestamp(440)}.000000\", \"{SyntheticNabFolder.Timestamp(480)}.000000\"]]");
                first = false;
            }
        }

        folder.Write("labels/combined_windows.json", windows.Append("\n}\n").ToString());
        folder.Write("config/profiles.json", SyntheticNabFolder.Profiles);
    }

    private static string Data(int seed, bool spike)
    {
        var rng = new Random(seed);
        var text = new StringBuilder("timestamp,value\n");
        for (var i = 0; i < Rows; i++)
        {
            var value = 50.0 + (5.0 * Math.Sin(2 * Math.PI * i / 288.0)) + (rng.NextDouble() * 2.0) + (spike && i == SpikeRow ? 30.0 : 0.0);
            text.Append(SyntheticNabFolder.Timestamp(i)).Append(',').Append(value.ToString("F3", CultureInfo.InvariantCulture)).Append('\n');
        }

        return text.ToString();
    }
}
