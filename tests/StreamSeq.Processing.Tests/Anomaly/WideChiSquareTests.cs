using System.Globalization;
using System.Text;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Processing.Anomaly;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;

namespace StreamSeq.Processing.Tests.Anomaly;

/// <summary>
/// A chi-square rule scores a reading with k observed components against χ²_k, whatever k is. The rule precomputes its
/// quantiles up to a dimension (64 for a model's rules), and a reading with more observed components was scored, and
/// decided, with that many degrees of freedom instead of its own (a 70-component reading against χ²_64: score 3.23 for
/// 2.55, and an alert at a tail probability of 0.0028 under a threshold of 0.001). References are the closed form of
/// the even-dimension tail, e^(−y) Σ_{j&lt;m} y^j/j! at y = NIS/2 for k = 2m, independent of the code.
/// </summary>
public sealed class WideChiSquareTests
{
    /// <summary>−log10 P(χ²_{2m} &gt; 2y) from the closed form.</summary>
    private static double EvenScore(int m, double y) => AnomalyRuleTests.EvenScore(m, y);

    [Theory]
    [InlineData(10, 33.7)]
    [InlineData(10, 100)]
    [InlineData(70, 107.1875)]
    [InlineData(200, 260)]
    public void ChiSquare_MoreObservedComponentsThanPrecomputed_ScoresAndDecidesWithEveryDegreeOfFreedom(int k, double nis)
    {
        var rule = new AnomalyRule("surprise", AnomalyRuleType.ChiSquare, 1e-4, clearThreshold: 0.01, maxDimension: 8);
        var estimate = new Estimate(new EstimatorInfo { Family = "test", StateDimension = 1, ObservationDimension = k, StateLength = 1 })
        {
            NormalizedInnovationSquared = nis,
            ObservedCount = k,
        };

        var hit = rule.Evaluate(estimate, -1, out var score, out var threshold, out var cleared);

        var expected = EvenScore(k / 2, nis / 2);
        Assert.Equal(expected, score, 1e-10 * Math.Max(1, expected));
        Assert.Equal(expected > 4, hit);
        Assert.Equal(expected <= 2, cleared);
        Assert.Equal(4.0, threshold, 1e-12);
    }

    [Fact]
    public void Run_SeventyComponentReadingWithinTheThreshold_NoAlert()
    {
        // 70 independent levels, prior variance 1 and noise 1: a reading of 1.75 everywhere has NIS 70 · 1.75² / 2 =
        // 107.1875, tail probability 0.00283 under χ²_70 (above the threshold 0.001; under χ²_64 it is 0.00058).
        const int m = 70;
        var identity = string.Join(",", Enumerable.Range(0, m).Select(i => "[" + string.Join(",", Enumerable.Range(0, m).Select(j => i == j ? "1" : "0")) + "]"));
        var spec = $$"""
            {"name":"wide","kind":"linear-gaussian","preset":{"type":"local-level","levelNoise":1,"dimensions":{{m}}},
             "observationNoise":[{{identity}}],"initialMean":[{{string.Join(",", Enumerable.Repeat("0", m))}}],"initialCovariance":[{{identity}}],
             "anomalyRules":[{"name":"chi","type":"chi-square","threshold":0.001}]}
            """;
        using var p = new StreamProcessor(TestModels.Router(TestModels.Binding(spec)), numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var sink = new ListSink();
        var values = string.Join(",", Enumerable.Repeat(1.75.ToString("R", CultureInfo.InvariantCulture), m));
        p.ProcessEncoded(Encoding.UTF8.GetBytes($"{{\"time\":0,\"values\":[{values}]}}"), "w", double.NaN, default, new SourcePosition("in", 0, 0), store, sink);

        var filtered = Assert.Single(sink.Of(OutputKind.Filtered));
        Assert.Equal(m * 1.75 * 1.75 / 2, filtered.GetProperty("nis").GetDouble(), 1e-9);
        Assert.True(EvenScore(m / 2, 107.1875 / 2) < 3);
        Assert.Empty(sink.Of(OutputKind.Anomaly));
    }
}
