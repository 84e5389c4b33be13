using StreamSeq.Nab.Tests.Fixtures;
using StreamSeq.Processing.Detection;
using Xunit.Abstractions;

namespace StreamSeq.Nab.Tests;

/// <summary>
/// StreamSeq's own anomaly detector (the <c>anomaly-detector</c> kind at its defaults) on the NAB development half
/// beside the checkout, end to end: the file runner writes NAB's results layout into a temporary folder, the scorer
/// reads it back and optimises one threshold per profile over the corpus, as NAB's leaderboard does. Skipped when the
/// folder is absent.
/// </summary>
public sealed class NabDetectorDevelopmentHalfTests(ITestOutputHelper output)
{
    /// <summary>The targets: standard, low-FP and low-FN normalised scores.</summary>
    private static readonly Dictionary<string, double> Targets = new(StringComparer.Ordinal)
    {
        ["standard"] = 75.0,
        ["reward_low_FP_rate"] = 65.0,
        ["reward_low_FN_rate"] = 80.0,
    };

    [SkippableFact]
    public void DefaultDetector_DevelopmentHalf_MeetsTheTargetsOnEveryProfile()
    {
        var half = NabDevelopmentHalf.TryGet();
        Skip.If(half is null, $"NAB development half not found (looked for {NabDevelopmentHalf.SearchDescription}).");
        using var results = new TempFolder();

        var scored = new AnomalyFileRunner().ScoreFolder(Path.Combine(half!.Root, "data"), results.Path, "streamseq", parallelism: 2);
        var detector = half.Scorer.ScoreDetector(DetectorResults.Load(results.Path, "streamseq", half.Corpus));

        Assert.Equal(half.Corpus.Files.Count, scored.Count);
        var numenta = half.Scorer.ScoreDetector(half.Numenta, half.Thresholds.For("numenta"));
        var nullDetector = half.Scorer.ScoreDetector(half.Null, half.Thresholds.For("null"));
        output.WriteLine(NabReport.RenderMarkdown([detector, numenta, nullDetector]));
        foreach (var (profile, target) in Targets)
        {
            var score = detector.ForProfile(profile).NormalizedScore;
            Assert.True(score >= target, $"{profile}: {score:F2} is below the target {target}");
        }
    }
}
