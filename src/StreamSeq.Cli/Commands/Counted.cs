using System.Globalization;

namespace StreamSeq.Cli.Commands;

/// <summary>Counts in the summaries, in plain English: "1 record", "6 records", "0 rows".</summary>
internal static class Counted
{
    /// <summary><paramref name="n"/> and the noun in the singular for 1, in the plural otherwise.</summary>
    /// <param name="n">The count.</param>
    /// <param name="noun">The noun in the singular.</param>
    /// <param name="plural">The plural when it is not the noun with an "s".</param>
    public static string Of(long n, string noun, string? plural = null) =>
        n.ToString(CultureInfo.InvariantCulture) + " " + (n == 1 ? noun : plural ?? noun + "s");
}
