using System.Globalization;
using System.Text.Json;

namespace StreamSeq.Nab.Tests.Fixtures;

/// <summary>
/// The NAB development half (31 files, labels, profiles, thresholds and Numenta's published results), found as
/// shared/nab in a folder above the repository root (beside the checkout). It is never copied into the repository.
/// </summary>
internal sealed class NabDevelopmentHalf
{
    private static readonly Lazy<NabDevelopmentHalf?> Instance = new(Load);

    private NabDevelopmentHalf(string root)
    {
        Root = root;
        Corpus = NabCorpus.Load(Path.Combine(root, "data"), Path.Combine(root, "labels", "combined_windows.json"));
        Profiles = CostProfile.Load(Path.Combine(root, "config", "profiles.json"));
        Thresholds = NabThresholds.Load(Path.Combine(root, "config", "thresholds.json"));
        Scorer = new NabScorer(Corpus, Profiles);
        Numenta = DetectorResults.Load(Path.Combine(root, "results"), "numenta", Corpus);
        Null = DetectorResults.Load(Path.Combine(root, "results"), "null", Corpus);
    }

    internal string Root { get; }

    internal NabCorpus Corpus { get; }

    internal IReadOnlyList<CostProfile> Profiles { get; }

    internal NabThresholds Thresholds { get; }

    internal NabScorer Scorer { get; }

    internal DetectorResults Numenta { get; }

    internal DetectorResults Null { get; }

    /// <summary>Where the folder was looked for, for the skip message.</summary>
    internal static string SearchDescription => $"shared/nab in the folders above {RepositoryRoot() ?? AppContext.BaseDirectory}";

    /// <summary>The loaded development half, or null when it is not beside the checkout.</summary>
    internal static NabDevelopmentHalf? TryGet() => Instance.Value;

    /// <summary>Published per-file rows of results/&lt;detector&gt;/&lt;detector&gt;_&lt;profile&gt;_scores.csv.</summary>
    internal IReadOnlyList<PublishedFileScore> PublishedScores(string detector, string profile)
    {
        var path = Path.Combine(Root, "results", detector, $"{detector}_{profile}_scores.csv");
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        int Column(string name) => Array.IndexOf(header, name);
        var rows = new List<PublishedFileScore>();
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            var f = line.Split(',');
            if (f[Column("File")] is "" or "Totals" || f[0] == "Totals")
            {
                continue;
            }

            rows.Add(new PublishedFileScore(
                f[Column("File")],
                double.Parse(f[Column("Threshold")], CultureInfo.InvariantCulture),
                double.Parse(f[Column("Score")], CultureInfo.InvariantCulture),
                new DetectionCounts(
                    int.Parse(f[Column("TP")], CultureInfo.InvariantCulture),
                    int.Parse(f[Column("TN")], CultureInfo.InvariantCulture),
                    int.Parse(f[Column("FP")], CultureInfo.InvariantCulture),
                    int.Parse(f[Column("FN")], CultureInfo.InvariantCulture)),
                int.Parse(f[Column("Total_Count")], CultureInfo.InvariantCulture)));
        }

        return rows;
    }

    /// <summary>The published per-row S(t)_&lt;profile&gt; column of a detector's results file.</summary>
    internal double[] PublishedRowRewards(string detector, string relativePath, string profile)
    {
        var path = DetectorResults.ResultsPath(Path.Combine(Root, "results"), detector, relativePath);
        var column = NabCsv.ReadColumns(path, "S(t)_" + profile)[0];
        return [.. column.Select(v => double.Parse(v, CultureInfo.InvariantCulture))];
    }

    /// <summary>Labelled windows counted straight from the labels file.</summary>
    internal int WindowsInLabelsFile()
    {
        using var labels = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "labels", "combined_windows.json")));
        return labels.RootElement.EnumerateObject().Sum(p => p.Value.GetArrayLength());
    }

    private static NabDevelopmentHalf? Load()
    {
        var repository = RepositoryRoot();
        for (var dir = repository is null ? null : Directory.GetParent(repository); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "nab");
            if (File.Exists(Path.Combine(candidate, "dev_files.txt")))
            {
                return new NabDevelopmentHalf(candidate);
            }
        }

        return null;
    }

    private static string? RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "StreamSeq.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}

/// <summary>One published row of NAB's per-file scores.</summary>
internal sealed record PublishedFileScore(string File, double Threshold, double Score, DetectionCounts Counts, int TotalCount);
