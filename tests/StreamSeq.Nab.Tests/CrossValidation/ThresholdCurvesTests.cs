using CsCheck;
using StreamSeq.Nab.CrossValidation;
using StreamSeq.Nab.Tests.Fixtures;

namespace StreamSeq.Nab.Tests.CrossValidation;

public sealed class ThresholdCurvesTests
{
    [Fact]
    public void Best_EveryFileOnce_IsNabsOptimiser()
    {
        Gen.Int.Sample(seed =>
        {
            var (corpus, results) = Synthetic.RandomCorpus(seed, maxFiles: 5);
            var scorer = new NabScorer(corpus, CostProfile.NabProfiles);
            foreach (var profile in CostProfile.NabProfiles)
            {
                var curves = new ThresholdCurves(corpus, results, profile);

                var best = curves.Best([.. corpus.Files.Select(_ => 1.0)]);

                var nab = scorer.OptimizeThreshold(results, profile);
                Assert.Equal(nab.Threshold, best.Threshold);
                Assert.Equal(nab.Score, best.Score, 1e-9);
            }
        }, iter: 200);
    }

    [Fact]
    public void Best_ZeroWeights_IsTheOptimiserOnTheOtherFiles()
    {
        Gen.Int.Sample(seed =>
        {
            var (corpus, results) = Synthetic.RandomCorpus(seed, maxFiles: 5);
            var rng = new Random(seed);
            var weights = corpus.Files.Select(_ => rng.Next(2) == 0 ? 0.0 : 1.0).ToArray();
            var kept = corpus.Files.Where((_, i) => weights[i] > 0.0).ToList();
            if (kept.Count == 0)
            {
                return;
            }

            var curves = new ThresholdCurves(corpus, results, CostProfile.Standard);

            var best = curves.Best(weights);

            var nab = new NabScorer(new NabCorpus(kept), CostProfile.NabProfiles).OptimizeThreshold(results, CostProfile.Standard);
            Assert.Equal(nab.Score, best.Score, 1e-9);
            Assert.Equal(nab.Threshold, best.Threshold);
        }, iter: 200);
    }

    [Fact]
    public void Best_WeightTwo_IsTheFileCountedTwice()
    {
        Gen.Int.Sample(seed =>
        {
            var (corpus, results) = Synthetic.RandomCorpus(seed, maxFiles: 3);
            var doubled = corpus.Files[0];
            var copyPath = "copy/" + doubled.Name;
            var copy = new NabDataFile(copyPath, doubled.Timestamps, doubled.Windows);
            var scores = corpus.Files.ToDictionary(f => f.RelativePath, f => results.ScoresFor(f.RelativePath).ToArray());
            scores[copyPath] = scores[doubled.RelativePath];
            var withCopy = new NabCorpus([.. corpus.Files, copy]);
            var curves = new ThresholdCurves(corpus, results, CostProfile.Standard);

            var weighted = curves.Best([.. corpus.Files.Select((f, i) => i == 0 ? 2.0 : 1.0)]);

            var nab = new NabScorer(withCopy, CostProfile.NabProfiles).OptimizeThreshold(new DetectorResults("copy", scores), CostProfile.Standard);
            Assert.Equal(nab.Score, weighted.Score, 1e-9);
        }, iter: 200);
    }

    [Fact]
    public void Fit_Bagged_IsOneOfTheScoresAndRepeats()
    {
        Gen.Int.Sample(seed =>
        {
            var (corpus, results) = Synthetic.RandomCorpus(seed, maxFiles: 5);
            var curves = new ThresholdCurves(corpus, results, CostProfile.Standard);
            double[] weights = [.. corpus.Files.Select(_ => 1.0)];

            var bagged = curves.Fit(weights, ThresholdRule.Bagged, seed);

            var candidates = corpus.Files.SelectMany(f => results.ScoresFor(f.RelativePath).ToArray()).Append(1.1);
            Assert.Contains(bagged, candidates);
            Assert.Equal(bagged, curves.Fit(weights, ThresholdRule.Bagged, seed));
            Assert.Equal(curves.Best(weights).Threshold, curves.Fit(weights, ThresholdRule.Optimal, seed));
        }, iter: 100);
    }

    [Fact]
    public void Smoothed_NoShift_IsNabsOptimiser()
    {
        Gen.Int.Sample(seed =>
        {
            var (corpus, results) = Synthetic.RandomCorpus(seed, maxFiles: 5);
            var curves = new ThresholdCurves(corpus, results, CostProfile.Standard);

            var smoothed = curves.Smoothed([.. corpus.Files.Select(_ => 1.0)], [0.0]);

            Assert.Equal(new NabScorer(corpus, CostProfile.NabProfiles).OptimizeThreshold(results, CostProfile.Standard).Threshold, smoothed);
        }, iter: 200);
    }

    [Fact]
    public void Smoothed_Shifts_MaximisesTheScorersScoreAveragedOverTheShiftedThresholds()
    {
        double[] shifts = [-0.15, 0.0, 0.1];
        Gen.Int.Sample(seed =>
        {
            var (corpus, results) = Synthetic.RandomCorpus(seed, maxFiles: 5);
            var scorer = new NabScorer(corpus, CostProfile.NabProfiles);
            var curves = new ThresholdCurves(corpus, results, CostProfile.Standard);
            double Averaged(double t) => shifts.Average(s => scorer.ScoreProfile(results, CostProfile.Standard, t + s).Score);

            var smoothed = curves.Smoothed([.. corpus.Files.Select(_ => 1.0)], shifts);

            // NAB's candidates: every distinct score after probation, and 1.1.
            var candidates = corpus.Files.SelectMany(f => results.ScoresFor(f.RelativePath).ToArray().Skip(f.ProbationLength)).Append(1.1).Distinct().ToList();
            Assert.Contains(smoothed, candidates);
            Assert.Equal(candidates.Max(Averaged), Averaged(smoothed), 1e-9);
        }, iter: 100);
    }

    [Fact]
    public void Best_WrongNumberOfWeights_Throws()
    {
        var (corpus, results) = Synthetic.RandomCorpus(7, maxFiles: 3);
        var curves = new ThresholdCurves(corpus, results, CostProfile.Standard);

        Assert.Throws<ArgumentException>(() => curves.Best(new double[corpus.Files.Count + 1]));
    }
}
