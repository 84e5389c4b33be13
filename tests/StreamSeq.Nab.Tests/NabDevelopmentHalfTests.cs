using StreamSeq.Nab.Tests.Fixtures;
using Xunit.Abstractions;

namespace StreamSeq.Nab.Tests;

/// <summary>
/// Validation against NAB's published results on the development half beside the checkout (skipped only where that
/// folder is absent).
/// </summary>
public sealed class NabDevelopmentHalfTests(ITestOutputHelper output)
{
    private static NabDevelopmentHalf Half()
    {
        var half = NabDevelopmentHalf.TryGet();
        Skip.If(half is null, $"NAB development half not found (looked for {NabDevelopmentHalf.SearchDescription}).");
        return half!;
    }

    [SkippableTheory]
    [InlineData("standard")]
    [InlineData("reward_low_FP_rate")]
    [InlineData("reward_low_FN_rate")]
    public void ScoreProfile_NumentaAtPublishedThresholds_ReproducesPublishedFileScores(string profileName)
    {
        var half = Half();
        var profile = half.Profiles.Single(p => p.Name == profileName);
        var threshold = half.Thresholds.For("numenta")[profileName];
        var published = half.PublishedScores("numenta", profileName);

        var scored = half.Scorer.ScoreProfile(half.Numenta, profile, threshold);

        Assert.Equal(31, published.Count);
        Assert.Equal(published.Select(p => p.File).Order(StringComparer.Ordinal), scored.Files.Select(f => f.RelativePath));
        var maxDifference = 0.0;
        foreach (var expected in published)
        {
            var actual = scored.Files.Single(f => f.RelativePath == expected.File);
            maxDifference = Math.Max(maxDifference, Math.Abs(actual.Score - expected.Score));
            Assert.True(Math.Abs(actual.Score - expected.Score) <= 1e-6, $"{expected.File}: {actual.Score} vs published {expected.Score}");
            Assert.Equal(expected.Counts, actual.Counts);
            Assert.Equal(expected.TotalCount, actual.RowCount);
            Assert.Equal(expected.Threshold, actual.Threshold, 1e-9);
        }

        var publishedTotal = published.Sum(p => p.Score);
        Assert.Equal(publishedTotal, scored.Score, 1e-6);
        output.WriteLine($"{profileName}: threshold {threshold:R}, total {scored.Score:R} vs published {publishedTotal:R}, max |file difference| {maxDifference:E2}");
    }

    [SkippableTheory]
    [InlineData("numenta")]
    [InlineData("null")]
    public void RowRewards_PublishedResults_ReproducePerRowColumns(string detector)
    {
        var half = Half();
        var results = detector == "numenta" ? half.Numenta : half.Null;
        foreach (var profile in half.Profiles)
        {
            var threshold = half.Thresholds.For(detector)[profile.Name];
            var maxDifference = 0.0;
            foreach (var file in half.Corpus.Files)
            {
                var expected = half.PublishedRowRewards(detector, file.RelativePath, profile.Name);
                var actual = NabScorer.RowRewards(file, results.ScoresFor(file.RelativePath), profile, threshold);
                Assert.Equal(expected.Length, actual.Length);
                for (var i = 0; i < actual.Length; i++)
                {
                    var difference = Math.Abs(actual[i] - expected[i]);
                    maxDifference = Math.Max(maxDifference, difference);
                    Assert.True(difference <= 1e-9, $"{detector} {profile.Name} {file.RelativePath} row {i}: {actual[i]} vs published {expected[i]}");
                }
            }

            output.WriteLine($"{detector} {profile.Name}: max |row reward difference| {maxDifference:E2}");
        }
    }

    [SkippableFact]
    public void NullScore_DevelopmentHalf_EqualsPublishedNullDetectorTotals()
    {
        var half = Half();
        foreach (var profile in half.Profiles)
        {
            var publishedNull = half.Corpus.Files.Sum(f => half.PublishedRowRewards("null", f.RelativePath, profile.Name).Sum());
            var scoredNull = half.Scorer.ScoreProfile(half.Null, profile, half.Thresholds.For("null")[profile.Name]);

            Assert.Equal(publishedNull, half.Scorer.NullScore(profile), 1e-9);
            Assert.Equal(publishedNull, scoredNull.Score, 1e-9);
            Assert.Equal(0.0, scoredNull.NormalizedScore, 1e-9);
            output.WriteLine($"{profile.Name}: S_null {publishedNull}, S_perfect {half.Scorer.PerfectScore(profile)}");
        }
    }

    [SkippableFact]
    public void NormalizedScore_Numenta_MatchesNabFormulaOnPublishedNumbers()
    {
        var half = Half();
        var windows = half.WindowsInLabelsFile();
        var scored = half.Scorer.ScoreDetector(half.Numenta, half.Thresholds.For("numenta"));
        foreach (var profile in half.Profiles)
        {
            var publishedScore = half.PublishedScores("numenta", profile.Name).Sum(p => p.Score);
            var publishedNull = half.Corpus.Files.Sum(f => half.PublishedRowRewards("null", f.RelativePath, profile.Name).Sum());
            var perfect = windows * profile.TruePositiveWeight;
            var expected = 100.0 * (publishedScore - publishedNull) / (perfect - publishedNull);

            var actual = scored.ForProfile(profile.Name);

            Assert.Equal(perfect, actual.PerfectScore);
            Assert.Equal(expected, actual.NormalizedScore, 1e-6);
            output.WriteLine($"{profile.Name}: numenta S = {actual.Score:F6}, normalised {actual.NormalizedScore:F4}");
        }
    }

    [SkippableFact]
    public void OptimizeThreshold_DevelopmentHalf_AtLeastAsGoodAsPublishedThreshold()
    {
        var half = Half();
        var optimised = half.Scorer.ScoreDetector(half.Numenta);
        foreach (var profile in half.Profiles)
        {
            var atPublished = half.Scorer.ScoreProfile(half.Numenta, profile, half.Thresholds.For("numenta")[profile.Name]);
            var best = half.Scorer.OptimizeThreshold(half.Numenta, profile);
            var result = optimised.ForProfile(profile.Name);

            Assert.True(best.Score >= atPublished.Score - 1e-9, $"{profile.Name}: optimum {best.Score} below the published threshold's {atPublished.Score}");
            Assert.Equal(best.Threshold, result.Threshold);
            Assert.Equal(best.Score, result.Score, 1e-9);
            Assert.Equal(best.Counts, result.Counts);
            output.WriteLine(
                $"{profile.Name}: optimised threshold {best.Threshold:R} -> S {best.Score:F6} (normalised {result.NormalizedScore:F4}); " +
                $"published threshold {atPublished.Threshold:R} -> S {atPublished.Score:F6} (normalised {atPublished.NormalizedScore:F4})");
        }
    }
}
