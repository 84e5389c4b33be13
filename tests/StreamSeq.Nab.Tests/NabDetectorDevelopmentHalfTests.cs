using StreamSeq.Estimation.Detection;
using StreamSeq.Nab.CrossValidation;
using StreamSeq.Nab.Tests.Fixtures;
using StreamSeq.Processing.Detection;
using Xunit.Abstractions;

namespace StreamSeq.Nab.Tests;

/// <summary>
/// StreamSeq's own anomaly detector (the <c>anomaly-detector</c> kind at its shipped configuration) on the NAB
/// development half beside the checkout, end to end: the file runner writes NAB's results layout into a temporary
/// folder and the scorer reads it back. Skipped when the folder is absent. The full selection (every candidate,
/// nested) is the documented <c>StreamSeq.Nab cv</c> command (docs/nab-report.md); these tests check the shipped
/// outcome of it cheaply.
/// </summary>
public sealed class NabDetectorDevelopmentHalfTests(ITestOutputHelper output)
{
    /// <summary>The shipped detector's scores on the development half, computed once for both tests.</summary>
    private static readonly Lazy<DetectorResults?> Shipped = new(() => NabDevelopmentHalf.TryGet() is { } half ? ShippedResults(half) : null);

    /// <summary>Numenta HTM's standard score on the whole corpus: the cross-validated score must reach it.</summary>
    private const double Target = 70.1;

    [SkippableFact]
    public void ShippedDetector_DevelopmentHalf_CrossValidatedStandardScoreReachesTheTarget()
    {
        var half = NabDevelopmentHalf.TryGet();
        Skip.If(half is null, $"NAB development half not found (looked for {NabDevelopmentHalf.SearchDescription}).");
        var results = Shipped.Value!;

        var folds = NabFolds.ByFile(half!.Corpus, 5);
        var cv = new CrossValidator(folds, half.Profiles, CandidateSet.Default, [results], "standard", parallelism: 2, ThresholdRule.Smoothed).Run();

        output.WriteLine(CrossValidationReport.RenderMarkdown(cv with { Scheme = "stratified folds of files (5), smoothed thresholds" }));
        var score = cv.Nested.Mean("standard");
        Assert.True(score >= Target, $"cross-validated standard score {score:F2} is below {Target}");
    }

    [SkippableFact]
    public void ShippedThresholds_DevelopmentHalf_AreTheSmoothedFitOnEveryFile()
    {
        var half = NabDevelopmentHalf.TryGet();
        Skip.If(half is null, $"NAB development half not found (looked for {NabDevelopmentHalf.SearchDescription}).");
        var results = Shipped.Value!;
        var shipped = new AnomalyFileRunner().Thresholds;

        foreach (var profile in half!.Profiles)
        {
            var curves = new ThresholdCurves(half.Corpus, results, profile);
            var fitted = curves.Fit([.. half.Corpus.Files.Select(_ => 1.0)], ThresholdRule.Smoothed, seed: 0);
            var atFitted = half.Scorer.ScoreProfile(results, profile, fitted);

            output.WriteLine($"{profile.Name}: threshold {fitted:G10}, in-sample {atFitted.NormalizedScore:F2} (S {atFitted.Score:F4}, {atFitted.Counts.FalsePositives} FP rows)");
            Assert.Equal(fitted, shipped[profile.Name].Threshold);
            Assert.Equal(atFitted.Score, shipped[profile.Name].Score, 1e-9);
        }
    }

    private static DetectorResults ShippedResults(NabDevelopmentHalf half)
    {
        using var folder = new TempFolder();
        var scored = new AnomalyFileRunner().ScoreFolder(Path.Combine(half.Root, "data"), folder.Path, "streamseq", parallelism: 2);
        Assert.Equal(half.Corpus.Files.Count, scored.Count);
        Assert.Equal(AnomalyDetectorOptions.Default.Thresholds.Keys.Order(), half.Profiles.Select(p => p.Name).Order());
        return DetectorResults.Load(folder.Path, "streamseq", half.Corpus);
    }
}
