using System.Text.Json;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.Views;

namespace StreamSeq.Processing.Tests.Views;

public sealed class ObservationProjectionTests
{
    private static double[] Vector(JsonElement e) => [.. e.EnumerateArray().Select(v => v.GetDouble())];

    private static double[] Flat(JsonElement rows) => [.. rows.EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(v => v.GetDouble())];

    [Fact]
    public void Project_ForecastStates_EqualTheFiltersOwnObservationMomentsWithoutNoise()
    {
        // The Kalman filter writes each forecast's state and the predictive moments of the reading it implies
        // (H m + d, H P Hᵀ + R): projecting the state must give the same mean, and the same variance less R.
        var binding = ViewRuns.Binding(ViewRuns.Linear3x2, horizon: 3);
        var projection = ObservationProjection.For(binding.Estimator);
        Assert.NotNull(projection);
        Assert.True(projection.IsExact);
        var sink = ViewRuns.Run(binding, ViewRuns.TwoComponentSeries(40));
        var r = new[] { 1.0, 2.0 };
        var forecasts = sink.Of(OutputKind.Forecast).ToList();
        Assert.Equal(120, forecasts.Count);
        foreach (var f in forecasts)
        {
            var mean = new double[2];
            var variance = new double[2];
            projection.Project(Vector(f.GetProperty("state").GetProperty("mean")), Flat(f.GetProperty("state").GetProperty("cov")), mean, variance);
            var expectedMean = Vector(f.GetProperty("observation").GetProperty("mean"));
            var expectedCov = Flat(f.GetProperty("observation").GetProperty("cov"));
            for (var i = 0; i < 2; i++)
            {
                Assert.Equal(expectedMean[i], mean[i], 1e-9 * Math.Max(1, Math.Abs(expectedMean[i])));
                Assert.Equal(expectedCov[(i * 2) + i] - r[i], variance[i], 1e-9 * Math.Max(1, expectedCov[(i * 2) + i]));
            }
        }
    }

    [Fact]
    public void FilteredVarianceFromPredictive_ProperPrior_EqualsTheProjectedFilteredStateVariance()
    {
        // H P_{t|t} Hᵀ computed from the filtered state, and V − V S⁻¹ V computed from the predictive covariance of
        // the reading: two routes to the same number (including a step with one component missing).
        var binding = ViewRuns.Binding(ViewRuns.Linear3x2);
        var projection = ObservationProjection.For(binding.Estimator)!;
        var rows = ViewRuns.TwoComponentSeries(30).ToList();
        var sink = ViewRuns.Run(binding, rows);
        var compared = 0;
        foreach (var f in sink.Of(OutputKind.Filtered))
        {
            var fromState = new double[2];
            var viaState = new double[2];
            projection.Project(Vector(f.GetProperty("state").GetProperty("mean")), Flat(f.GetProperty("state").GetProperty("cov")), fromState, viaState);
            var viaPredictive = new double[2];
            Assert.True(projection.FilteredVarianceFromPredictive(Flat(f.GetProperty("observation").GetProperty("cov")), viaPredictive));
            for (var i = 0; i < 2; i++)
            {
                Assert.Equal(viaState[i], viaPredictive[i], 1e-8 * Math.Max(1, viaState[i]));
            }

            compared++;
        }

        Assert.Equal(30, compared);
    }

    [Fact]
    public void Project_ZeroColumnOverInfiniteVariance_IgnoresTheUnobservedState()
    {
        // y = x0: an infinite variance of x1 (unobserved) must not turn the signal variance into NaN.
        var projection = ObservationProjection.Linear([1, 0], [], [4], 1, 2);
        var mean = new double[1];
        var variance = new double[1];
        projection.Project([3, 9], [2, double.PositiveInfinity, double.PositiveInfinity, double.PositiveInfinity], mean, variance);
        Assert.Equal(3, mean[0]);
        Assert.Equal(2, variance[0]);
    }

    [Fact]
    public void FilteredVarianceFromPredictive_ScalarCase_IsTheTextbookProduct()
    {
        // Univariate: V = S − R, and V − V²/S = V R / (V + R).
        var projection = ObservationProjection.Linear([1], [], [4], 1, 1);
        var variance = new double[1];
        Assert.True(projection.FilteredVarianceFromPredictive([10], variance));
        Assert.Equal(6.0 * 4.0 / 10.0, variance[0], 1e-12);
        Assert.False(projection.FilteredVarianceFromPredictive([double.PositiveInfinity], variance));
        Assert.False(projection.FilteredVarianceFromPredictive([-1], variance));
    }

    [Fact]
    public void For_ExtendedKalmanForecasts_MatchesTheFiltersObservationMoments()
    {
        // EKF forecasts linearise h at the forecast mean, as the projection does: h(m) and J P Jᵀ (+ R in the record).
        var spec = File.ReadAllText(RepositoryExamples.Path("growth-ekf.json"));
        var binding = ViewRuns.Binding(spec, horizon: 2);
        var projection = ObservationProjection.For(binding.Estimator);
        Assert.NotNull(projection);
        Assert.False(projection.IsExact);
        var random = new Random(3);
        var sink = ViewRuns.Run(binding, Enumerable.Range(1, 25).Select(t => ((double)t, new[] { (10 * Math.Sin(t / 3.0)) + ViewRuns.Normal(random) })));
        var forecasts = sink.Of(OutputKind.Forecast).ToList();
        Assert.NotEmpty(forecasts);
        foreach (var f in forecasts)
        {
            var mean = new double[1];
            var variance = new double[1];
            projection.Project(Vector(f.GetProperty("state").GetProperty("mean")), Flat(f.GetProperty("state").GetProperty("cov")), mean, variance);
            var expectedMean = Vector(f.GetProperty("observation").GetProperty("mean"))[0];
            var expectedVariance = Flat(f.GetProperty("observation").GetProperty("cov"))[0] - 1.0;
            Assert.Equal(expectedMean, mean[0], 1e-9 * Math.Max(1, Math.Abs(expectedMean)));
            Assert.Equal(expectedVariance, variance[0], 1e-6 * Math.Max(1, expectedVariance));
        }
    }

    [Fact]
    public void For_FamilyWithoutObservationMap_IsNull()
    {
        var spec = File.ReadAllText(RepositoryExamples.Path("particle-growth.json"));
        Assert.Null(ObservationProjection.For(ViewRuns.Binding(spec).Estimator));
    }
}
