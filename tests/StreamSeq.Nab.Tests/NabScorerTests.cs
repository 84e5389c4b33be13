using StreamSeq.Nab.Tests.Fixtures;

namespace StreamSeq.Nab.Tests;

public sealed class NabScorerTests
{
    // s(x) = -tanh(2.5 x); in the worked example (see Synthetic.WorkedExample):
    //   row 12 in window 0 (rows 10..14, width 5): p = -(14 - 12 + 1) / 5 = -0.6, reward tanh(1.5) / tanh(2.5);
    //   row 17 after window 0: p' = (17 - 14) / (5 - 1) = 0.75, cost 0.11 tanh(1.875);
    //   row 30 after window 1 (rows 25..28, width 4): p' = (30 - 28) / 3, cost 0.11 tanh(5 / 3);
    //   row 39: p' = 11 / 3 > 3, cost 0.11; row 8 (before any window): cost 0.11; window 1 missed: -fnWeight.
    private static readonly double Window0Reward = Math.Tanh(1.5) / Math.Tanh(2.5);
    private static readonly double Row17Cost = Math.Tanh(1.875);
    private static readonly double Row30Cost = Math.Tanh(5.0 / 3.0);

    [Theory]
    [InlineData(1, 0)]
    [InlineData(7, 1)]
    [InlineData(100, 15)]
    [InlineData(4032, 604)]
    [InlineData(4999, 749)]
    [InlineData(5000, 750)]
    [InlineData(15902, 750)]
    public void ProbationLength_KnownSizes_MatchesFifteenPercentCappedAt750(int rows, int expected)
    {
        Assert.Equal(expected, NabScorer.ProbationLength(rows));
    }

    [Fact]
    public void ProbationLength_AllSizes_EqualsIntegerArithmetic()
    {
        for (var n = 1; n <= 20000; n++)
        {
            Assert.Equal(Math.Min(n * 15 / 100, 750), NabScorer.ProbationLength(n));
        }
    }

    [Fact]
    public void ScoreFile_WorkedExampleStandard_MatchesHandDerivation()
    {
        var file = Synthetic.WorkedExample();

        var result = NabScorer.ScoreFile(file, Synthetic.WorkedExampleScores(), CostProfile.Standard, 0.5);

        var expected = Window0Reward - 1.0 - (0.11 * (2.0 + Row17Cost + Row30Cost));
        Assert.Equal(expected, result.Score, 1e-12);
        Assert.Equal(new DetectionCounts(TruePositives: 2, TrueNegatives: 21, FalsePositives: 4, FalseNegatives: 7), result.Counts);
        Assert.Equal(40, result.RowCount);
        Assert.Equal("cat", result.Category);
    }

    [Fact]
    public void ScoreFile_ScoreEqualToThreshold_CountsAsDetection()
    {
        var file = Synthetic.WorkedExample();
        var scores = Synthetic.WorkedExampleScores();

        var atHalf = NabScorer.ScoreFile(file, scores, CostProfile.Standard, 0.5);
        var justAbove = NabScorer.ScoreFile(file, scores, CostProfile.Standard, Math.BitIncrement(0.5));

        // Only row 17 (score exactly 0.5) differs between the two thresholds.
        Assert.Equal(atHalf.Score + (0.11 * Row17Cost), justAbove.Score, 1e-12);
        Assert.Equal(atHalf.Counts.FalsePositives - 1, justAbove.Counts.FalsePositives);
    }

    [Fact]
    public void ScoreFile_HighThreshold_MissesBothWindows()
    {
        var result = NabScorer.ScoreFile(Synthetic.WorkedExample(), Synthetic.WorkedExampleScores(), CostProfile.Standard, 0.85);

        // Rows 30 and 39 remain; the 0.9 in probation (row 3) never counts.
        Assert.Equal(-2.0 - (0.11 * (Row30Cost + 1.0)), result.Score, 1e-12);
        Assert.Equal(2, result.Counts.FalsePositives);
        Assert.Equal(0, result.Counts.TruePositives);
    }

    [Fact]
    public void ScoreFile_LowFalseNegativeProfile_DoublesTheMissedWindowCost()
    {
        var result = NabScorer.ScoreFile(Synthetic.WorkedExample(), Synthetic.WorkedExampleScores(), CostProfile.RewardLowFalseNegativeRate, 0.5);

        Assert.Equal(Window0Reward - 2.0 - (0.11 * (2.0 + Row17Cost + Row30Cost)), result.Score, 1e-12);
    }

    [Fact]
    public void ScoreFile_DetectionAtFirstWindowRow_EarnsExactlyTruePositiveWeight()
    {
        var file = Synthetic.File("a/b.csv", 40, (20, 29));
        var scores = Synthetic.Scores(40, 0.0, (20, 1.0));

        Assert.Equal(1.0, NabScorer.ScoreFile(file, scores, CostProfile.Standard, 0.5).Score);
    }

    [Fact]
    public void ScoreFile_DetectionAtLastWindowRow_EarnsAlmostNothing()
    {
        var file = Synthetic.File("a/b.csv", 40, (20, 29));
        var scores = Synthetic.Scores(40, 0.0, (29, 1.0));

        // p = -(29 - 29 + 1) / 10 = -0.1.
        Assert.Equal(Math.Tanh(0.25) / Math.Tanh(2.5), NabScorer.ScoreFile(file, scores, CostProfile.Standard, 0.5).Score, 1e-12);
    }

    [Fact]
    public void ScoreFile_WindowStraddlingProbation_ScoresOnlyRowsAfterProbation()
    {
        // 40 rows: probation 6. Window rows 2..8 (width 7): the detection at row 3 is ignored, row 7 counts with
        // p = -(8 - 7 + 1) / 7.
        var file = Synthetic.File("a/b.csv", 40, (2, 8));
        var scores = Synthetic.Scores(40, 0.0, (3, 1.0), (7, 1.0));

        var result = NabScorer.ScoreFile(file, scores, CostProfile.Standard, 0.5);

        Assert.Equal(Math.Tanh(2.5 * 2.0 / 7.0) / Math.Tanh(2.5), result.Score, 1e-12);
        Assert.Equal(new DetectionCounts(1, 31, 0, 2), result.Counts);
    }

    [Fact]
    public void ScoreFile_WindowInsideProbation_IsNeitherRewardedNorCharged()
    {
        var file = Synthetic.File("a/b.csv", 40, (1, 4));
        var silent = new double[40];

        var result = NabScorer.ScoreFile(file, silent, CostProfile.Standard, 0.5);

        Assert.Equal(0.0, result.Score);
        Assert.Equal(0, file.ScoredWindowCount);
    }

    [Fact]
    public void ScoreFile_WrongNumberOfScores_NamesTheFile()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            NabScorer.ScoreFile(Synthetic.WorkedExample(), new double[39], CostProfile.Standard, 0.5));

        Assert.Contains("cat/worked.csv", error.Message, StringComparison.Ordinal);
        Assert.Contains("39", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RowRewards_WorkedExample_PutsWindowOutcomesOnFirstRowsAndCostsOnDetections()
    {
        var rewards = NabScorer.RowRewards(Synthetic.WorkedExample(), Synthetic.WorkedExampleScores(), CostProfile.Standard, 0.5);

        var expected = new double[40];
        expected[8] = -0.11;
        expected[10] = Window0Reward;
        expected[17] = -0.11 * Row17Cost;
        expected[25] = -1.0;
        expected[30] = -0.11 * Row30Cost;
        expected[39] = -0.11;
        for (var i = 0; i < 40; i++)
        {
            Assert.Equal(expected[i], rewards[i], 1e-12);
        }
    }

    [Fact]
    public void RowRewards_WindowStraddlingProbation_UsesFirstRowAfterProbation()
    {
        var file = Synthetic.File("a/b.csv", 40, (2, 8));
        var rewards = NabScorer.RowRewards(file, new double[40], CostProfile.Standard, 0.5);

        Assert.Equal(-1.0, rewards[6]);
        Assert.Equal(-1.0, rewards.Sum());
    }

    [Fact]
    public void NullAndPerfectScores_CountWindowsAsNabDoes()
    {
        // The window inside probation is in NAB's perfect score (it counts every labelled window) but a detector
        // that never detects is not charged for it.
        var corpus = new NabCorpus([
            Synthetic.WorkedExample(),
            Synthetic.File("b/inside-probation.csv", 40, (1, 4)),
            Synthetic.File("b/quiet.csv", 20),
        ]);
        var scorer = new NabScorer(corpus, CostProfile.NabProfiles);

        Assert.Equal(3.0, scorer.PerfectScore(CostProfile.Standard));
        Assert.Equal(-2.0, scorer.NullScore(CostProfile.Standard));
        Assert.Equal(-4.0, scorer.NullScore(CostProfile.RewardLowFalseNegativeRate));
    }

    [Fact]
    public void Normalize_NullAndPerfect_MapToZeroAndHundred()
    {
        Assert.Equal(0.0, NabScorer.Normalize(-57, -57, 57));
        Assert.Equal(100.0, NabScorer.Normalize(57, -57, 57));
        Assert.Equal(100.0 * 81.0 / 114.0, NabScorer.Normalize(24, -57, 57), 1e-12);
    }

    [Fact]
    public void ScoreDetector_DetectorFlaggingEveryWindowStart_ScoresHundred()
    {
        var corpus = new NabCorpus([Synthetic.WorkedExample(), Synthetic.File("c/other.csv", 60, (20, 29), (40, 55))]);
        var results = new DetectorResults("ideal", new Dictionary<string, double[]>
        {
            ["cat/worked.csv"] = Synthetic.Scores(40, 0.0, (10, 1.0), (25, 1.0)),
            ["c/other.csv"] = Synthetic.Scores(60, 0.0, (20, 1.0), (40, 1.0)),
        });
        var scorer = new NabScorer(corpus, CostProfile.NabProfiles);

        var scored = scorer.ScoreDetector(results);

        foreach (var profile in scored.Profiles)
        {
            Assert.Equal(100.0, profile.NormalizedScore, 1e-12);
            Assert.Equal(1.0, profile.Threshold);
            Assert.True(profile.ThresholdOptimized);
        }
    }

    [Fact]
    public void ScoreDetector_SilentDetector_ScoresZero()
    {
        var corpus = new NabCorpus([Synthetic.WorkedExample()]);
        var results = new DetectorResults("silent", new Dictionary<string, double[]> { ["cat/worked.csv"] = new double[40] });
        var scorer = new NabScorer(corpus, CostProfile.NabProfiles);

        var thresholds = CostProfile.NabProfiles.ToDictionary(p => p.Name, _ => 0.5);

        var scored = scorer.ScoreDetector(results, thresholds);

        Assert.All(scored.Profiles, p => Assert.Equal(0.0, p.NormalizedScore));
        Assert.All(scored.Profiles, p => Assert.Equal(p.NullScore, p.Score));
    }

    [Fact]
    public void ScoreDetector_GivenThresholds_UsesThemAndSumsFiles()
    {
        var quiet = Synthetic.File("quiet/flat.csv", 30);
        var corpus = new NabCorpus([Synthetic.WorkedExample(), quiet]);
        var results = new DetectorResults("det", new Dictionary<string, double[]>
        {
            ["cat/worked.csv"] = Synthetic.WorkedExampleScores(),
            ["quiet/flat.csv"] = Synthetic.Scores(30, 0.1, (20, 0.9)),
        });
        var scorer = new NabScorer(corpus, [CostProfile.Standard]);

        var standard = scorer.ScoreDetector(results, new Dictionary<string, double> { ["standard"] = 0.5 }).ForProfile("standard");

        var workedScore = Window0Reward - 1.0 - (0.11 * (2.0 + Row17Cost + Row30Cost));
        Assert.False(standard.ThresholdOptimized);
        Assert.Equal(workedScore - 0.11, standard.Score, 1e-12);
        Assert.Equal(2, standard.Categories.Count);
        Assert.Null(standard.Categories.Single(c => c.Category == "quiet").NormalizedScore);
        Assert.Equal(-0.11, standard.Categories.Single(c => c.Category == "quiet").Score, 1e-12);
        Assert.Equal(100.0 * (workedScore + 2.0) / 4.0, standard.Categories.Single(c => c.Category == "cat").NormalizedScore!.Value, 1e-12);
    }

    [Fact]
    public void ScoreDetector_ThresholdMissingForProfile_NamesIt()
    {
        var corpus = new NabCorpus([Synthetic.WorkedExample()]);
        var results = new DetectorResults("det", new Dictionary<string, double[]> { ["cat/worked.csv"] = new double[40] });
        var scorer = new NabScorer(corpus, CostProfile.NabProfiles);

        var error = Assert.Throws<ArgumentException>(() => scorer.ScoreDetector(results, new Dictionary<string, double> { ["standard"] = 0.5 }));

        Assert.Contains("reward_low_FP_rate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ScoreDetector_ResultsMissingAFile_NamesIt()
    {
        var corpus = new NabCorpus([Synthetic.WorkedExample(), Synthetic.File("quiet/flat.csv", 30)]);
        var results = new DetectorResults("det", new Dictionary<string, double[]> { ["cat/worked.csv"] = new double[40] });
        var scorer = new NabScorer(corpus, CostProfile.NabProfiles);

        var error = Assert.Throws<InvalidDataException>(() => scorer.ScoreDetector(results));

        Assert.Contains("quiet/flat.csv", error.Message, StringComparison.Ordinal);
    }
}
