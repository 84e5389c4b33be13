using System.Globalization;
using System.Text;

namespace StreamSeq.Nab.Tests.Fixtures;

/// <summary>
/// Writes a tiny corpus in NAB's on-disk layout: data/, labels/combined_windows.json, config/profiles.json,
/// config/thresholds.json and results/det/... for a detector named "det".
/// </summary>
internal static class SyntheticNabFolder
{
    internal const string Profiles =
        """
        {
          "standard": { "CostMatrix": { "tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11, "tnWeight": 1.0 } },
          "reward_low_FP_rate": { "CostMatrix": { "tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.22, "tnWeight": 1.0 } },
          "reward_low_FN_rate": { "CostMatrix": { "tpWeight": 1.0, "fnWeight": 2.0, "fpWeight": 0.11, "tnWeight": 1.0 } }
        }
        """;

    internal static string Timestamp(int row) =>
        Synthetic.TimeOf(row).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>Writes the worked example as cat/worked.csv plus a window-free file quiet/flat.csv.</summary>
    internal static void Write(TempFolder folder)
    {
        folder.Write("data/cat/worked.csv", DataCsv(40));
        folder.Write("data/quiet/flat.csv", DataCsv(30));
        folder.Write(
            "labels/combined_windows.json",
            $$"""
            {
              "cat/worked.csv": [["{{Timestamp(10)}}.000000", "{{Timestamp(14)}}.000000"], ["{{Timestamp(25)}}.000000", "{{Timestamp(28)}}.000000"]],
              "quiet/flat.csv": []
            }
            """);
        folder.Write("config/profiles.json", Profiles);
        folder.Write(
            "config/thresholds.json",
            """{ "det": { "standard": { "score": 0, "threshold": 0.5 }, "reward_low_FP_rate": { "score": 0, "threshold": 0.5 }, "reward_low_FN_rate": { "score": 0, "threshold": 0.5 } } }""");
        folder.Write("results/det/cat/det_worked.csv", ResultsCsv(Synthetic.WorkedExampleScores()));
        folder.Write("results/det/quiet/det_flat.csv", ResultsCsv(Synthetic.Scores(30, 0.1, (20, 0.9))));
    }

    internal static string DataCsv(int rows)
    {
        var text = new StringBuilder("timestamp,value\n");
        for (var i = 0; i < rows; i++)
        {
            text.Append(Timestamp(i)).Append(',').Append(i % 7).Append('\n');
        }

        return text.ToString();
    }

    internal static string ResultsCsv(double[] scores)
    {
        var text = new StringBuilder("timestamp,value,anomaly_score\n");
        for (var i = 0; i < scores.Length; i++)
        {
            text.Append(Timestamp(i)).Append(',').Append(i % 7).Append(',')
                .Append(scores[i].ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }

        return text.ToString();
    }
}
