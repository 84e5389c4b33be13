using BenchmarkDotNet.Attributes;
using StreamSeq.Nab;

namespace StreamSeq.Benchmarks.Nab;

/// <summary>
/// NAB scoring at the size of the development half: 31 files of 5000 rows with two windows each and scores on a
/// fine grid (many distinct thresholds), swept and scored under all three profiles.
/// </summary>
[MemoryDiagnoser]
public class NabScoringBenchmarks
{
    private NabScorer scorer = null!;
    private DetectorResults results = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(17);
        var origin = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);
        var files = new List<NabDataFile>();
        var scores = new Dictionary<string, double[]>();
        for (var f = 0; f < 31; f++)
        {
            const int rows = 5000;
            var timestamps = Enumerable.Range(0, rows).Select(i => origin.AddMinutes(5 * i)).ToArray();
            AnomalyWindow[] windows =
            [
                new(timestamps[1500], timestamps[1749]),
                new(timestamps[3500], timestamps[3749]),
            ];
            var path = $"category{f % 7}/file{f}.csv";
            files.Add(new NabDataFile(path, timestamps, windows));
            scores[path] = [.. Enumerable.Range(0, rows).Select(_ => Math.Round(random.NextDouble(), 6))];
        }

        var corpus = new NabCorpus(files);
        scorer = new NabScorer(corpus, CostProfile.NabProfiles);
        results = new DetectorResults("random", scores);
    }

    [Benchmark]
    public ThresholdScore OptimizeStandardThreshold() => scorer.OptimizeThreshold(results, CostProfile.Standard);

    [Benchmark]
    public DetectorScore ScoreDetectorWithOptimisedThresholds() => scorer.ScoreDetector(results);
}
