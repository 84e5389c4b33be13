using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Discrete;

/// <summary>
/// The predictive moments of y_t (the mixture Σ_k p_t(k) N(μ_k, Σ_k)) when the emission means are large next to their
/// spread, as readings such as byte counts or sensor values around 1e8 are.
/// </summary>
/// <remarks>
/// Expected values were worked out by hand from Var = Σ_k p_k σ²_k + Σ_k p_k (μ_k − m)² and checked with Python's
/// exact rational arithmetic (fractions.Fraction). With p = (1/4, 3/4), μ = (1e8, 1e8 + 4) and σ² = (1, 2):
/// m = 1e8 + 3 and Var = 1/4 + 3/2 + 1/4·9 + 3/4·1 = 19/4 = 4.75. Every transition row equals p, so the predicted
/// state probabilities are p at every step (up to the rounding of f_{t−1} A). E[y²] − m² would take the difference of
/// two numbers near 1e16, whose spacing is 2: nothing of 4.75 survives.
/// </remarks>
public sealed class HmmPredictiveMomentsTests
{
    private const double Level = 1e8;

    // The predictive mean near 1e8 is only as exact as its spacing (ulp(1e8) ≈ 1.5e-8) and the rounding of f_{t−1} A,
    // so innovations of size 1–2 carry about 1e-8 relative error, and NIS twice that. The variance itself is exact.
    private const double NisTolerance = 1e-7;

    [Theory]
    [InlineData(2)] // at most four states: the vectorised kernel runs the steps after the first
    [InlineData(5)] // the general path
    public void Step_GaussianMeansNear1e8_PredictiveVarianceAndNisAreExact(int states)
    {
        // States alternate between mean 1e8 (variance 1) and 1e8 + 4 (variance 2); the probabilities put 1/4 on the
        // first kind and 3/4 on the second, so the mixture is the same two-component one for K = 2 and K = 5.
        var (pi, means, variances) = states == 2
            ? (new[] { 0.25, 0.75 }, new[] { Level, Level + 4 }, new[] { 1.0, 2.0 })
            : (new[] { 0.125, 0.5, 0.125, 0.25, 0.0 }, new[] { Level, Level + 4, Level, Level + 4, Level }, new[] { 1.0, 2.0, 1.0, 2.0, 1.0 });
        var transition = Enumerable.Range(0, states).SelectMany(_ => pi).ToArray();
        var filter = new HiddenMarkovFilter(new HiddenMarkovModel(pi, transition, new GaussianEmission(means, variances)));
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var e = new Estimate(filter.Info);

        // NIS = (y − m)² / 4.75: 4/4.75 = 16/19 for y = 1e8 + 1 and 1e8 + 5, 1/4.75 = 4/19 for y = 1e8 + 2.
        (double Y, double Nis)[] steps = [(Level + 1, 16.0 / 19), (Level + 5, 16.0 / 19), (double.NaN, double.NaN), (Level + 2, 4.0 / 19), (Level + 1, 16.0 / 19)];
        for (var t = 0; t < steps.Length; t++)
        {
            filter.Step(state, new Observation([steps[t].Y]), e, default);
            Expect.Close(Level + 3, e.ObservationMean[0], 1e-15, $"t={t + 1} predictive mean");
            Expect.Close(4.75, e.ObservationCovariance[0], 1e-12, $"t={t + 1} predictive variance");
            if (double.IsFinite(steps[t].Y))
            {
                Expect.Close(steps[t].Nis, e.NormalizedInnovationSquared, NisTolerance, $"t={t + 1} NIS");
            }
        }

        var forecast = new Forecast(filter.Info, 2);
        filter.Forecast(state, 1.0, forecast);
        for (var h = 1; h <= 2; h++)
        {
            Expect.Close(4.75, forecast.ObservationCovarianceAt(h)[0], 1e-12, $"forecast h={h} variance");
        }
    }

    [Fact]
    public void Step_MultivariateGaussianMeansNear1e8_PredictiveCovarianceAndNisAreExact()
    {
        // μ_0 = (1e8, −1e8), Σ_0 = [[1, 0.5], [0.5, 1]]; μ_1 = (1e8 + 4, −1e8 − 4), Σ_1 = 2 I; p = (1/4, 3/4).
        // m = (1e8 + 3, −1e8 − 3); Σ_k p_k Σ_k = [[1.75, 0.125], [0.125, 1.75]]; the spread of the means adds
        // 1/4 (−3, 3)(−3, 3)' + 3/4 (1, −1)(1, −1)' = [[3, −3], [−3, 3]], so S = [[4.75, −2.875], [−2.875, 4.75]].
        // For y = (1e8 + 1, −1e8 − 2), v = (−2, 1) and v' S⁻¹ v = 784/915 (exact fractions); with the second
        // component missing, NIS = 4/4.75 = 16/19.
        double[] pi = [0.25, 0.75];
        var emission = new MultivariateGaussianEmission([Level, -Level, Level + 4, -Level - 4], [1, 0.5, 0.5, 1, 2, 0, 0, 2], 2);
        var filter = new HiddenMarkovFilter(new HiddenMarkovModel(pi, [0.25, 0.75, 0.25, 0.75], emission));
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var e = new Estimate(filter.Info);
        double[] expectedCovariance = [4.75, -2.875, -2.875, 4.75];
        (double[] Y, double Nis)[] steps = [([Level + 1, -Level - 2], 784.0 / 915), ([Level + 1, double.NaN], 16.0 / 19), ([Level + 1, -Level - 2], 784.0 / 915)];
        for (var t = 0; t < steps.Length; t++)
        {
            filter.Step(state, new Observation(steps[t].Y), e, default);
            Expect.Close([Level + 3, -Level - 3], e.ObservationMean, 1e-15, $"t={t + 1} predictive mean");
            Expect.Close(expectedCovariance, e.ObservationCovariance, 1e-12, $"t={t + 1} predictive covariance");
            Expect.Close(steps[t].Nis, e.NormalizedInnovationSquared, NisTolerance, $"t={t + 1} NIS");
        }
    }
}
