using System.Text.Json.Nodes;
using CsCheck;
using StreamSeq.Nab.CrossValidation;
using StreamSeq.Nab.Tests.Fixtures;

namespace StreamSeq.Nab.Tests.CrossValidation;

public sealed class CrossValidatorTests
{
    private const int Rows = 200;

    [Theory]
    [InlineData(ThresholdRule.Optimal, SelectionCriterion.Pooled, 40)]
    [InlineData(ThresholdRule.Bagged, SelectionCriterion.Pooled, 8)]
    [InlineData(ThresholdRule.Smoothed, SelectionCriterion.Pooled, 30)]
    [InlineData(ThresholdRule.Smoothed, SelectionCriterion.Robust, 30)]
    public void Run_HeldOutFoldsLabels_DoNotChangeWhatIsChosenForIt(ThresholdRule rule, SelectionCriterion criterion, int iterations)
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            var folds = RandomFolds(rng, foldCount: 4);
            var (candidates, results) = RandomCandidates(rng, folds, count: 3);
            var heldOut = rng.Next(folds.Count);
            var relabelled = folds.Select((f, i) => i == heldOut ? Relabel(f, rng) : f).ToList();

            var before = new CrossValidator(folds, CostProfile.NabProfiles, candidates, results, "standard", rule: rule, criterion: criterion).Run();
            var after = new CrossValidator(relabelled, CostProfile.NabProfiles, candidates, results, "standard", rule: rule, criterion: criterion).Run();

            var (b, a) = (before.Nested.Folds[heldOut], after.Nested.Folds[heldOut]);
            Assert.Equal(b.Candidate, a.Candidate);
            Assert.Equal(b.Profiles.Select(p => p.Threshold), a.Profiles.Select(p => p.Threshold));
            if (before.Shipped == after.Shipped)
            {
                // The shipped candidate is chosen with every fold; its thresholds for a fold still come from the others.
                Assert.Equal(before.ShippedFolds.Folds[heldOut].Profiles.Select(p => p.Threshold), after.ShippedFolds.Folds[heldOut].Profiles.Select(p => p.Threshold));
            }
        }, iter: iterations);
    }

    [Fact]
    public void Run_Sensitivity_IsEveryFoldScoredAtItsThresholdMovedByTheShift()
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            var folds = RandomFolds(rng, foldCount: 3);
            var (candidates, results) = RandomCandidates(rng, folds, count: 1);

            var result = new CrossValidator(folds, CostProfile.NabProfiles, candidates, results, "standard", rule: ThresholdRule.Optimal).Run();

            var all = new NabScorer(new NabCorpus(folds.SelectMany(x => x.Files)), CostProfile.NabProfiles);
            foreach (var profile in CostProfile.NabProfiles)
            {
                var fitted = all.OptimizeThreshold(results[0], profile).Threshold;
                foreach (var shift in CrossValidator.SensitivityShifts)
                {
                    var s = result.Sensitivity.Single(x => x.Profile == profile.Name && x.Shift == shift);
                    var (score, nullScore, perfect, normalised) = (0.0, 0.0, 0.0, 0.0);
                    for (var f = 0; f < folds.Count; f++)
                    {
                        var others = new NabScorer(new NabCorpus(folds.Where((_, i) => i != f).SelectMany(x => x.Files)), CostProfile.NabProfiles);
                        var own = new NabScorer(new NabCorpus(folds[f].Files), CostProfile.NabProfiles);
                        var held = own.ScoreProfile(results[0], profile, others.OptimizeThreshold(results[0], profile).Threshold + shift);
                        (score, nullScore, perfect) = (score + held.Score, nullScore + held.NullScore, perfect + held.PerfectScore);
                        normalised += held.NormalizedScore / folds.Count;
                    }

                    Assert.Equal(all.ScoreProfile(results[0], profile, fitted + shift).NormalizedScore, s.InSample, 1e-9);
                    Assert.Equal(normalised, s.CrossValidatedMean, 1e-9);
                    Assert.Equal(NabScorer.Normalize(score, nullScore, perfect), s.CrossValidatedPooled, 1e-9);
                }

                var band = result.Bands.Single(b => b.Profile == profile.Name);
                Assert.InRange(fitted, band.Low, band.High);
                Assert.Equal(all.ScoreProfile(results[0], profile, fitted).NormalizedScore, band.Optimum, 1e-9);
                Assert.True(all.ScoreProfile(results[0], profile, band.Low).NormalizedScore >= band.Optimum - band.Tolerance);
                Assert.True(all.ScoreProfile(results[0], profile, band.High).NormalizedScore >= band.Optimum - band.Tolerance);
            }
        }, iter: 30);
    }

    [Fact]
    public void Run_EveryFold_IsScoredAsACorpusOfItsOwnAtTheThresholdFittedOnTheOthers()
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            var folds = RandomFolds(rng, foldCount: 3);
            var (candidates, results) = RandomCandidates(rng, folds, count: 1);

            var result = new CrossValidator(folds, CostProfile.NabProfiles, candidates, results, "standard", rule: ThresholdRule.Optimal).Run();

            for (var f = 0; f < folds.Count; f++)
            {
                var others = new NabCorpus(folds.Where((_, i) => i != f).SelectMany(x => x.Files));
                var own = new NabScorer(new NabCorpus(folds[f].Files), CostProfile.NabProfiles);
                foreach (var profile in CostProfile.NabProfiles)
                {
                    var outcome = result.Nested.Folds[f].ForProfile(profile.Name);
                    var expectedThreshold = new NabScorer(others, CostProfile.NabProfiles).OptimizeThreshold(results[0], profile).Threshold;
                    var expected = own.ScoreProfile(results[0], profile, expectedThreshold);
                    Assert.Equal(expectedThreshold, outcome.Threshold);
                    Assert.Equal(expected.Score, outcome.Score, 1e-9);
                    Assert.Equal(expected.NormalizedScore, outcome.NormalizedScore, 1e-9);
                    Assert.Equal(expected.Counts, outcome.Counts);
                }
            }

            Assert.Equal(result.Nested.Folds.Average(f => f.ForProfile("standard").NormalizedScore), result.Nested.Mean("standard"), 1e-9);
        }, iter: 60);
    }

    [Fact]
    public void Run_IdenticalCandidates_TheFirstIsChosen()
    {
        var rng = new Random(3);
        var folds = RandomFolds(rng, foldCount: 4);
        var (candidates, results) = RandomCandidates(rng, folds, count: 1);
        DetectorCandidate[] twins = [candidates[0], candidates[0] with { Name = "twin" }];

        var result = new CrossValidator(folds, CostProfile.NabProfiles, twins, [results[0], results[0]], "standard").Run();

        Assert.Equal(candidates[0].Name, result.Shipped);
        Assert.All(result.Nested.Folds, f => Assert.Equal(candidates[0].Name, f.Candidate));
    }

    [Fact]
    public void Run_ACandidateFarBetterThanTheFirst_IsChosenEverywhere()
    {
        var rng = new Random(5);
        var folds = RandomFolds(rng, foldCount: 4);
        var (candidates, results) = RandomCandidates(rng, folds, count: 1);
        // An oracle: 1 at every window's first row, 0 elsewhere.
        var oracle = new DetectorResults("oracle", folds.SelectMany(f => f.Files).ToDictionary(
            f => f.RelativePath,
            f =>
            {
                var scores = new double[f.RowCount];
                foreach (var w in f.Windows)
                {
                    scores[f.Timestamps.ToList().IndexOf(w.Start)] = 1.0;
                }

                return scores;
            }));
        DetectorCandidate[] both = [candidates[0], new DetectorCandidate("oracle", [])];

        var result = new CrossValidator(folds, CostProfile.NabProfiles, both, [results[0], oracle], "standard").Run();

        Assert.Equal("oracle", result.Shipped);
        Assert.All(result.Nested.Folds, f => Assert.Equal("oracle", f.Candidate));
        Assert.Equal(100.0, result.Nested.Mean("standard"), 1e-9);
        Assert.Equal(100.0, result.InSample[0].NormalizedScore, 1e-9);
    }

    [Fact]
    public void Run_ACandidateBetterByLessThanTheNoise_IsChosenOnlyWithoutTheOneStandardErrorRule()
    {
        var rng = new Random(11);
        var folds = RandomFolds(rng, foldCount: 5);
        var (candidates, results) = RandomCandidates(rng, folds, count: 1);
        // The same scores with one more early detection in one window of one file: a little better, nowhere worse.
        var file = folds[0].Files[0];
        var scores = folds.SelectMany(f => f.Files).ToDictionary(f => f.RelativePath, f => results[0].ScoresFor(f.RelativePath).ToArray());
        scores[file.RelativePath][file.Timestamps.ToList().IndexOf(file.Windows[0].Start)] = 1.0;
        DetectorCandidate[] both = [candidates[0], new DetectorCandidate("nudged", [])];
        DetectorResults[] all = [results[0], new DetectorResults("nudged", scores)];

        var oneStandardError = new CrossValidator(folds, CostProfile.NabProfiles, both, all, "standard").Run();
        var best = new CrossValidator(folds, CostProfile.NabProfiles, both, all, "standard", oneStandardError: false).Run();

        Assert.True(best.Candidates[1].Pooled > best.Candidates[0].Pooled);
        Assert.True(best.Candidates[1].Pooled - best.Candidates[0].Pooled < best.Candidates[1].StandardError);
        Assert.Equal("nudged", best.Shipped);
        Assert.Equal(candidates[0].Name, oneStandardError.Shipped);
    }

    [Fact]
    public void Constructor_FoldWithoutScoredWindow_IsRefused()
    {
        var rng = new Random(1);
        var folds = RandomFolds(rng, foldCount: 2).Append(new NabFold("empty", [Synthetic.File("z/empty.csv", Rows)])).ToList();
        var (candidates, results) = RandomCandidates(rng, folds, count: 1);

        var e = Assert.Throws<ArgumentException>(() => new CrossValidator(folds, CostProfile.NabProfiles, candidates, results, "standard"));

        Assert.Contains("'empty'", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Folds of two files each, every file with a window after probation plus random others.</summary>
    private static List<NabFold> RandomFolds(Random rng, int foldCount) =>
        [.. Enumerable.Range(0, foldCount).Select(k => new NabFold(
            $"fold{k}",
            [.. Enumerable.Range(0, 2).Select(i => Synthetic.File($"c{k}/f{i}.csv", Rows, Windows(rng)))]))];

    private static (int Start, int End)[] Windows(Random rng)
    {
        var start = rng.Next(40, 120);
        return [(start, start + rng.Next(3, 20)), (start + 40, start + 40 + rng.Next(3, 20))];
    }

    /// <summary>The same files and timestamps with new windows.</summary>
    private static NabFold Relabel(NabFold fold, Random rng) =>
        new(fold.Name, [.. fold.Files.Select(f => Synthetic.File(f.RelativePath, f.RowCount, Windows(rng)))]);

    /// <summary>Candidates with random scores on a 0.05 grid, spiking near every window start now and then.</summary>
    private static (List<DetectorCandidate> Candidates, List<DetectorResults> Results) RandomCandidates(Random rng, IReadOnlyList<NabFold> folds, int count)
    {
        var candidates = new List<DetectorCandidate>();
        var results = new List<DetectorResults>();
        for (var c = 0; c < count; c++)
        {
            var scores = new Dictionary<string, double[]>();
            foreach (var file in folds.SelectMany(f => f.Files))
            {
                scores[file.RelativePath] = [.. Enumerable.Range(0, file.RowCount).Select(_ => rng.Next(0, 21) / 20.0)];
            }

            candidates.Add(new DetectorCandidate($"candidate{c}", new JsonObject { ["index"] = c }));
            results.Add(new DetectorResults($"candidate{c}", scores));
        }

        return (candidates, results);
    }
}
