using StreamSeq.Nab;

namespace StreamSeq.Nab.Tests.Fixtures;

/// <summary>Hand-made NAB files: rows five minutes apart from 2020-01-01, windows given by row ranges.</summary>
internal static class Synthetic
{
    internal static readonly DateTime Origin = new(2020, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);

    internal static DateTime TimeOf(int row) => Origin.AddMinutes(5 * row);

    internal static NabDataFile File(string relativePath, int rows, params (int Start, int End)[] windows) =>
        new(relativePath,
            [.. Enumerable.Range(0, rows).Select(TimeOf)],
            [.. windows.Select(w => new AnomalyWindow(TimeOf(w.Start), TimeOf(w.End)))]);

    /// <summary>Scores that are <paramref name="background"/> except at the given rows.</summary>
    internal static double[] Scores(int rows, double background, params (int Row, double Score)[] peaks)
    {
        var scores = Enumerable.Repeat(background, rows).ToArray();
        foreach (var (row, score) in peaks)
        {
            scores[row] = score;
        }

        return scores;
    }

    /// <summary>
    /// The worked example of the scorer tests: 40 rows (probation floor(0.15 * 40) = 6), window 0 on rows 10..14
    /// (width 5), window 1 on rows 25..28 (width 4).
    /// </summary>
    internal static NabDataFile WorkedExample() => File("cat/worked.csv", 40, (10, 14), (25, 28));

    /// <summary>
    /// Scores for <see cref="WorkedExample"/>: a detection in probation (row 3), before any window (row 8), inside
    /// window 0 (rows 12 and 13), at exactly 0.5 after window 0 (row 17), after window 1 (rows 30 and 39);
    /// window 1 is missed.
    /// </summary>
    internal static double[] WorkedExampleScores() =>
        Scores(40, 0.1, (3, 0.9), (8, 0.7), (12, 0.6), (13, 0.8), (17, 0.5), (30, 0.95), (39, 0.99));

    /// <summary>
    /// 1 to <paramref name="maxFiles"/> files of 5 to 200 rows in two categories, up to 4 windows each (some one row
    /// wide), scores on a 0.1 grid.
    /// </summary>
    internal static (NabCorpus Corpus, DetectorResults Results) RandomCorpus(int seed, int maxFiles = 3)
    {
        var rng = new Random(seed);
        var files = new List<NabDataFile>();
        var scores = new Dictionary<string, double[]>();
        var fileCount = rng.Next(1, maxFiles + 1);
        for (var f = 0; f < fileCount; f++)
        {
            var rows = rng.Next(5, 201);
            var path = $"c{f % 2}/f{f}.csv";
            files.Add(File(path, rows, RandomWindows(rng, rows)));
            scores[path] = [.. Enumerable.Range(0, rows).Select(_ => rng.Next(0, 11) / 10.0)];
        }

        return (new NabCorpus(files), new DetectorResults("random", scores));
    }

    /// <summary>Up to 4 random, ordered, non-touching windows in a file of <paramref name="rows"/> rows.</summary>
    internal static (int Start, int End)[] RandomWindows(Random rng, int rows)
    {
        var windows = new List<(int, int)>();
        var cursor = rng.Next(0, (rows / 3) + 1);
        for (var k = rng.Next(0, 5); k > 0; k--)
        {
            var start = cursor + rng.Next(0, 10);
            var end = start + rng.Next(0, 15);
            if (end >= rows)
            {
                break;
            }

            windows.Add((start, end));
            cursor = end + 1 + rng.Next(0, 10);
        }

        return [.. windows];
    }
}
