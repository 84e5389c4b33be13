using StreamSeq.Estimation.Abstractions;
using StreamSeq.Processing.Anomaly;

namespace StreamSeq.Processing.Tests.Anomaly;

/// <summary>
/// The chi-square rule scores −log10 P(χ²_k &gt; NIS). References are closed forms, independent of the code's continued
/// fraction: for even k = 2m the tail is e^(−y) Σ_{j&lt;m} y^j/j! with y = NIS/2, and for k = 1 it is erfc(√y).
/// </summary>
public sealed class AnomalyRuleTests
{
    private static readonly AnomalyRule Rule = new("surprise", AnomalyRuleType.ChiSquare, 1e-4, maxDimension: 8);

    private static double Score(int k, double nis)
    {
        var estimate = new Estimate(new EstimatorInfo { Family = "test", StateDimension = 1, ObservationDimension = k, StateLength = 1 })
        {
            NormalizedInnovationSquared = nis,
            ObservedCount = k,
        };
        Rule.Evaluate(estimate, -1, out var score, out _, out _);
        return score;
    }

    /// <summary>−log10 of e^(−y) Σ_{j&lt;m} y^j/j!, the tail of χ² with 2m degrees of freedom at 2y.</summary>
    internal static double EvenScore(int m, double y)
    {
        double sum = 0, term = 1;
        for (var j = 0; j < m; j++)
        {
            sum += term;
            term *= y / (j + 1);
        }

        return (y - Math.Log(sum)) / Math.Log(10.0);
    }

    [Theory]
    [InlineData(2, 0.5)]
    [InlineData(2, 9.21)]
    [InlineData(2, 80)]
    [InlineData(2, 592)]
    [InlineData(2, 1500)]
    [InlineData(2, 1e5)]
    [InlineData(4, 3)]
    [InlineData(4, 700)]
    [InlineData(4, 5e4)]
    [InlineData(6, 1)]
    [InlineData(6, 20)]
    [InlineData(6, 1e6)]
    public void ChiSquare_EvenDimension_ScoreIsMinusLog10OfTheClosedFormTail(int k, double nis)
    {
        var expected = EvenScore(k / 2, nis / 2);

        Assert.Equal(expected, Score(k, nis), Math.Max(1e-12, 1e-13 * expected));
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(3.84)]
    [InlineData(40)]
    [InlineData(576)]
    [InlineData(592)]
    [InlineData(1300)]
    public void ChiSquare_OneDimension_ScoreIsMinusLog10OfErfc(double nis)
    {
        // erfc(z) ≥ 1e-300 up to about z = 26, NIS = 1352; beyond it its asymptotic series is the reference below.
        var expected = -Math.Log10(MathNet.Numerics.SpecialFunctions.Erfc(Math.Sqrt(nis / 2)));

        Assert.Equal(expected, Score(1, nis), 1e-9 * Math.Max(1, expected));
    }

    [Theory]
    [InlineData(5e3)]
    [InlineData(1e4)]
    [InlineData(1e6)]
    [InlineData(1e200)]
    public void ChiSquare_OneDimensionFarBeyondUnderflow_ScoreFollowsErfcsAsymptoticSeries(double nis)
    {
        // erfc(z) = e^(−z²)/(z√π) · (1 − 1/(2z²) + 3/(4z⁴) − …); at z ≥ 50 three terms hold to 1e-10 relative.
        var z2 = nis / 2;
        var logTail = -z2 - 0.5 * Math.Log(z2) - 0.5 * Math.Log(Math.PI) + Math.Log(1 - 1 / (2 * z2) + 3 / (4 * z2 * z2));
        var expected = -logTail / Math.Log(10.0);

        Assert.Equal(expected, Score(1, nis), 1e-12 * expected);
    }

    [Theory]
    [InlineData(24, 126.6)]
    [InlineData(100, 2173.6)]
    public void ChiSquare_ReadmesFigures_ASpikeSoManyDeviationsOutScoresThis(double deviations, double readme) =>
        Assert.Equal(readme, Score(1, deviations * deviations), 0.05);

    [Fact]
    public void ChiSquare_StrongAnomalies_ScoreMoreTheMoreSurprisingTheyAre()
    {
        // 1 − CDF rounds to 0 once the tail is below about 1e-16 (NIS ≈ 70 for one dimension), and every stronger
        // anomaly then scored the same: a spike 24 standard deviations out read as 300, as did one 1,000 out.
        var nis = new[] { 10.0, 50, 70, 80, 100, 300, 592, 1e3, 1e4, 1e6, 1e100, 1e300 };
        foreach (var k in new[] { 1, 2, 3, 8 })
        {
            var scores = nis.Select(x => Score(k, x)).ToArray();
            Assert.All(scores, s => Assert.True(double.IsFinite(s), $"k = {k}: {string.Join(", ", scores)}"));
            Assert.True(scores.Zip(scores.Skip(1)).All(p => p.Second > p.First), $"k = {k}: {string.Join(", ", scores)}");
        }
    }

    [Fact]
    public void ChiSquare_InfiniteOrMissingNis_IsAnInfiniteOrMissingScore()
    {
        Assert.Equal(double.PositiveInfinity, Score(1, double.PositiveInfinity));
        Assert.True(double.IsNaN(Score(1, double.NaN)));
    }

    [Fact]
    public void ChiSquare_Threshold_IsMinusLog10OfTheTailProbabilityAndTheDecisionAgreesWithTheScore()
    {
        foreach (var k in new[] { 1, 2, 5 })
        {
            var quantile = MathNet.Numerics.Distributions.ChiSquared.InvCDF(k, 1 - 1e-4);
            var estimate = new Estimate(new EstimatorInfo { Family = "test", StateDimension = 1, ObservationDimension = k, StateLength = 1 }) { ObservedCount = k };
            foreach (var (nis, beyond) in new[] { (quantile * 0.999, false), (quantile * 1.001, true) })
            {
                estimate.NormalizedInnovationSquared = nis;
                Assert.Equal(beyond, Rule.Evaluate(estimate, -1, out var score, out var threshold, out _));
                Assert.Equal(4.0, threshold, 1e-12);
                Assert.Equal(beyond, score > threshold);
            }
        }
    }

    [Theory]
    [InlineData(1e-4)]
    [InlineData(1e-9)]
    [InlineData(1e-20)]
    [InlineData(1e-200)]
    public void ChiSquare_TinyThreshold_FiresJustBeyondItsQuantileAndTheDecisionsAgreeWithTheScore(double alpha)
    {
        // 1 − 1e-20 is 1 in double, and the inverse CDF there is infinite: a rule at 1e-20 never fired.
        var rule = new AnomalyRule("rare", AnomalyRuleType.ChiSquare, alpha, clearThreshold: Math.Sqrt(alpha), maxDimension: 4);
        foreach (var k in new[] { 1, 2, 4 })
        {
            var estimate = new Estimate(new EstimatorInfo { Family = "test", StateDimension = 1, ObservationDimension = k, StateLength = 1 }) { ObservedCount = k };
            var fired = new List<bool>();
            foreach (var nis in Enumerable.Range(0, 400).Select(i => Math.Pow(10, -1 + i * 0.01)))
            {
                estimate.NormalizedInnovationSquared = nis;
                var hit = rule.Evaluate(estimate, -1, out var score, out var threshold, out var cleared);
                Assert.Equal(-Math.Log10(alpha), threshold, 1e-12);
                Assert.Equal(score > threshold, hit);
                Assert.Equal(score <= -Math.Log10(Math.Sqrt(alpha)), cleared);
                fired.Add(hit);
            }

            Assert.Contains(true, fired);
            Assert.Contains(false, fired);
        }
    }

    [Theory]
    [InlineData(2, 1e-30)]
    [InlineData(4, 1e-12)]
    [InlineData(6, 1e-250)]
    public void ChiSquareUpperQuantile_EvenDimension_HasTheClosedFormTail(int k, double alpha)
    {
        var quantile = AnomalyRule.ChiSquareUpperQuantile(k, alpha);

        Assert.Equal(-Math.Log10(alpha), EvenScore(k / 2, quantile / 2), 1e-9 * -Math.Log10(alpha));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void ChiSquare_ClearThresholdNotAProbability_IsRefusedNamingTheField(double clear)
    {
        var e = Assert.Throws<ModelValidationException>(() => new AnomalyRule("r", AnomalyRuleType.ChiSquare, 1e-4, clear));
        Assert.Contains("clearThreshold", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChiSquare_WithoutScoreEveryStep_LeavesOnlyStepsWithinTheThresholdUnscored()
    {
        var estimate = new Estimate(new EstimatorInfo { Family = "test", StateDimension = 1, ObservationDimension = 1, StateLength = 1 }) { ObservedCount = 1 };
        foreach (var nis in new[] { 0.5, 10, 20, 592 })
        {
            estimate.NormalizedInnovationSquared = nis;
            var full = Rule.Evaluate(estimate, -1, out var score, out var threshold, out var cleared);
            var lazy = Rule.Evaluate(estimate, -1, scoreEveryStep: false, out var lazyScore, out var lazyThreshold, out var lazyCleared);

            Assert.Equal((full, threshold, cleared), (lazy, lazyThreshold, lazyCleared));
            Assert.Equal(full ? score : double.NaN, lazyScore);
        }
    }
}
