using CsCheck;
using StreamSeq.Nab.Tests.Fixtures;

namespace StreamSeq.Nab.Tests;

public sealed class ThresholdSweeperTests
{
    // One file of 40 rows (probation 6) with a window on rows 20..29: a false alarm of 0.95 at row 10, a 0.9 at the
    // window's first row, 0 elsewhere.
    private static (NabScorer Scorer, DetectorResults Results) HandExample(params (int Row, double Score)[] peaks)
    {
        var corpus = new NabCorpus([Synthetic.File("a/hand.csv", 40, (20, 29))]);
        var results = new DetectorResults("hand", new Dictionary<string, double[]> { ["a/hand.csv"] = Synthetic.Scores(40, 0.0, peaks) });
        return (new NabScorer(corpus, CostProfile.NabProfiles), results);
    }

    [Fact]
    public void SweepThresholds_HandExample_ListsEveryDistinctScoreFromTheTop()
    {
        var (scorer, results) = HandExample((10, 0.95), (20, 0.9));

        var sweep = scorer.SweepThresholds(results, CostProfile.Standard);

        Assert.Equal([1.1, 0.95, 0.9, 0.0], sweep.Select(s => s.Threshold));
        Assert.Equal(-1.0, sweep[0].Score);
        Assert.Equal(-1.11, sweep[1].Score, 1e-12);
        Assert.Equal(0.89, sweep[2].Score, 1e-12);
        Assert.Equal(new DetectionCounts(0, 24, 0, 10), sweep[0].Counts);
        Assert.Equal(new DetectionCounts(1, 23, 1, 9), sweep[2].Counts);
        Assert.Equal(new DetectionCounts(10, 0, 24, 0), sweep[3].Counts);
    }

    [Fact]
    public void OptimizeThreshold_HandExample_PicksTheWindowDetection()
    {
        var (scorer, results) = HandExample((10, 0.95), (20, 0.9));

        var best = scorer.OptimizeThreshold(results, CostProfile.Standard);

        Assert.Equal(0.9, best.Threshold);
        Assert.Equal(0.89, best.Score, 1e-12);
    }

    [Fact]
    public void OptimizeThreshold_EqualScores_KeepsTheHighestThreshold()
    {
        // Lowering the threshold from 0.9 to 0.8 adds a later detection in the same window: same score.
        var (scorer, results) = HandExample((20, 0.9), (25, 0.8));

        var sweep = scorer.SweepThresholds(results, CostProfile.Standard);
        var best = scorer.OptimizeThreshold(results, CostProfile.Standard);

        Assert.Equal(sweep.Single(s => s.Threshold == 0.8).Score, sweep.Single(s => s.Threshold == 0.9).Score);
        Assert.Equal(0.9, best.Threshold);
        Assert.Equal(1.0, best.Score);
    }

    [Fact]
    public void SweepThresholds_ProbationaryScores_AreNotCandidates()
    {
        var (scorer, results) = HandExample((2, 0.99), (20, 0.9));

        var sweep = scorer.SweepThresholds(results, CostProfile.Standard);

        Assert.DoesNotContain(sweep, s => s.Threshold == 0.99);
    }

    [Fact]
    public void SweepThresholds_RandomCorpora_EveryEntryEqualsDirectScoring()
    {
        Gen.Int.Sample(seed =>
        {
            var (corpus, results) = Synthetic.RandomCorpus(seed);
            var scorer = new NabScorer(corpus, CostProfile.NabProfiles);
            foreach (var profile in CostProfile.NabProfiles)
            {
                foreach (var entry in scorer.SweepThresholds(results, profile))
                {
                    var direct = scorer.ScoreProfile(results, profile, entry.Threshold);
                    Assert.Equal(direct.Score, entry.Score, 1e-9);
                    Assert.Equal(direct.Counts, entry.Counts);
                }
            }
        }, iter: 150);
    }

    [Fact]
    public void OptimizeThreshold_RandomCorpora_BeatsEveryOtherThreshold()
    {
        Gen.Int.Sample(seed =>
        {
            var (corpus, results) = Synthetic.RandomCorpus(seed);
            var scorer = new NabScorer(corpus, CostProfile.NabProfiles);
            var rng = new Random(seed ^ 0x5bd1e995);
            foreach (var profile in CostProfile.NabProfiles)
            {
                var best = scorer.OptimizeThreshold(results, profile);
                Assert.Equal(scorer.ScoreProfile(results, profile, best.Threshold).Score, best.Score, 1e-9);
                for (var k = 0; k < 20; k++)
                {
                    var threshold = rng.NextDouble() * 1.05;
                    Assert.True(scorer.ScoreProfile(results, profile, threshold).Score <= best.Score + 1e-9);
                }
            }
        }, iter: 150);
    }

    [Fact]
    public void RowRewards_RandomCorpora_SumToTheFileScore()
    {
        Gen.Int.Sample(seed =>
        {
            var (corpus, results) = Synthetic.RandomCorpus(seed);
            foreach (var file in corpus.Files)
            {
                var scores = results.ScoresFor(file.RelativePath);
                var score = NabScorer.ScoreFile(file, scores, CostProfile.Standard, 0.45).Score;
                Assert.Equal(score, NabScorer.RowRewards(file, scores, CostProfile.Standard, 0.45).Sum(), 1e-9);
            }
        }, iter: 150);
    }
}
