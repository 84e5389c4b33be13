using StreamSeq.Nab.Tests.Fixtures;

namespace StreamSeq.Nab.Tests;

public sealed class NabReportTests
{
    private static IReadOnlyList<DetectorScore> TwoDetectors()
    {
        var corpus = new NabCorpus([Synthetic.WorkedExample(), Synthetic.File("quiet/flat.csv", 30)]);
        var scorer = new NabScorer(corpus, CostProfile.NabProfiles);
        var ideal = new DetectorResults("ideal", new Dictionary<string, double[]>
        {
            ["cat/worked.csv"] = Synthetic.Scores(40, 0.0, (10, 1.0), (25, 1.0)),
            ["quiet/flat.csv"] = new double[30],
        });
        var worked = new DetectorResults("worked", new Dictionary<string, double[]>
        {
            ["cat/worked.csv"] = Synthetic.WorkedExampleScores(),
            ["quiet/flat.csv"] = Synthetic.Scores(30, 0.1, (20, 0.9)),
        });
        var half = CostProfile.NabProfiles.ToDictionary(p => p.Name, _ => 0.5);
        return [scorer.ScoreDetector(ideal, half), scorer.ScoreDetector(worked, half)];
    }

    [Fact]
    public void RenderMarkdown_TwoDetectors_PutsThemSideBySide()
    {
        var markdown = NabReport.RenderMarkdown(TwoDetectors());

        Assert.Contains("| Detector | standard | reward_low_FP_rate | reward_low_FN_rate |", markdown, StringComparison.Ordinal);
        Assert.Contains("| ideal | 100.00 | 100.00 | 100.00 |", markdown, StringComparison.Ordinal);
        Assert.Contains("| worked |", markdown, StringComparison.Ordinal);
        Assert.Contains("### Per category, reward_low_FN_rate", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void RenderMarkdown_CategoryWithoutWindows_ShowsNotApplicableWithRawScore()
    {
        var markdown = NabReport.RenderMarkdown(TwoDetectors());

        // quiet/flat.csv has no window: only its false alarm (row 20, before any window: -0.11) is scored.
        Assert.Contains("| quiet | 1 | 0 | n/a (S 0.000) | n/a (S -0.110) |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void RenderFiles_Profile_ListsFilesAndTotals()
    {
        var worked = TwoDetectors()[1].ForProfile("standard");

        var markdown = NabReport.RenderFiles("worked", worked);

        Assert.Contains("| cat/worked.csv |", markdown, StringComparison.Ordinal);
        Assert.Contains("| Totals |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void RenderMarkdown_NoDetectors_Throws()
    {
        Assert.Throws<ArgumentException>(() => NabReport.RenderMarkdown([]));
    }
}
