using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Discrete;

/// <summary>
/// The batch forward–backward skips a reading that is impossible in every live state (one outside the emission's
/// support among them) as the streaming filter does, and must score it as the filter does: log p(y_t | y_1:t−1) = −∞,
/// not NaN (NaN stays for a wholly missing reading). The sequence total is the sum of the per-step densities, −∞ once
/// one reading is impossible, as the Kalman family's batch total is. Baum–Welch leaves readings outside the support out
/// of the fit (they have probability 0 under every parameter value), so it fits exactly as if they were missing.
/// </summary>
public sealed class HmmBatchImpossibleReadingTests
{
    // Categorical, C = 3: −1, 1.5 and 3 are outside the support; NaN is missing. Poisson: −1 and 2.5 are outside.
    private static readonly double[] CategoricalReadings = [1, 0, -1, 2, 2, 1.5, double.NaN, 0, 3, 1, 2, 2, 0, 1, 1];
    private static readonly double[] PoissonReadings = [1, 0, 7, -1, 5, 6, 2.5, double.NaN, 0, 1, 9, 4, 2, 0, 3];

    private static HiddenMarkovModel Categorical() =>
        new([0.3, 0.7], [0.9, 0.1, 0.2, 0.8], new CategoricalEmission([0.5, 0.4, 0.1, 0.2, 0.3, 0.5], 3));

    private static HiddenMarkovModel Poisson() =>
        new([0.3, 0.7], [0.9, 0.1, 0.2, 0.8], new PoissonEmission([1.0, 6.0]));

    public static TheoryData<string> Families() => new() { "categorical", "poisson" };

    private static (HiddenMarkovModel Model, double[] Readings) Case(string family) =>
        family == "categorical" ? (Categorical(), CategoricalReadings) : (Poisson(), PoissonReadings);

    [Theory]
    [MemberData(nameof(Families))]
    public void ForwardBackward_ReadingsOutsideTheSupport_ScoreEachStepAsTheStreamingFilterDoes(string family)
    {
        var (model, readings) = Case(family);
        var streaming = StreamingLogLikelihoods(model, readings);

        var posterior = HmmInference.ForwardBackward(model, new ObservationSeries(1, readings));

        for (var t = 0; t < readings.Length; t++)
        {
            var expected = streaming[t];
            var actual = posterior.LogPredictiveDensity[t];
            if (double.IsFinite(expected))
            {
                Expect.Close(expected, actual, 1e-12, $"t={t + 1} log p(y_t | y_1:t-1)");
            }
            else
            {
                // −∞ for an impossible reading, NaN for a missing one: the same non-number, not merely "not finite".
                Assert.Equal(expected, actual);
            }
        }

        Assert.Equal(double.NegativeInfinity, posterior.LogLikelihood);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void ForwardBackward_ReadingsOutsideTheSupport_SmoothAsIfTheyWereMissing(string family)
    {
        var (model, readings) = Case(family);
        var gaps = readings.Select(y => IsOutsideTheSupport(model, y) ? double.NaN : y).ToArray();

        var skipped = HmmInference.ForwardBackward(model, new ObservationSeries(1, readings));
        var missing = HmmInference.ForwardBackward(model, new ObservationSeries(1, gaps));

        Assert.Equal(missing.Smoothed, skipped.Smoothed);
        Assert.Equal(missing.ExpectedTransitionCounts, skipped.ExpectedTransitionCounts);
        Assert.Equal(missing.LogLikelihood, skipped.ScoredLogLikelihood);
        Assert.Equal(HmmInference.Viterbi(model, new ObservationSeries(1, gaps)).Path, HmmInference.Viterbi(model, new ObservationSeries(1, readings)).Path);
    }

    [Fact]
    public void ForwardBackward_EveryReadingPossible_TotalIsTheSumOfTheStreamingLogLikelihoods()
    {
        double[] readings = [1, 0, 2, 2, double.NaN, 0, 1, 2];
        var model = Categorical();
        var streaming = StreamingLogLikelihoods(model, readings);

        var posterior = HmmInference.ForwardBackward(model, new ObservationSeries(1, readings));

        Expect.Close(streaming.Where(v => !double.IsNaN(v)).Sum(), posterior.LogLikelihood, 1e-12, "log p(y)");
        Assert.Equal(posterior.LogLikelihood, posterior.ScoredLogLikelihood);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void BaumWelch_ReadingsOutsideTheSupport_FitsAsIfTheyWereMissing(string family)
    {
        var (model, readings) = Case(family);
        var gaps = readings.Select(y => IsOutsideTheSupport(model, y) ? double.NaN : y).ToArray();
        string[] parameters = ["initialProbabilities", "transition", "emission"];

        var skipped = BaumWelch.Fit(model, [new ObservationSeries(1, readings)], parameters);
        var missing = BaumWelch.Fit(model, [new ObservationSeries(1, gaps)], parameters);

        Assert.True(double.IsFinite(skipped.LogLikelihood), $"fit log-likelihood {skipped.LogLikelihood}");
        Assert.True(skipped.Converged);
        Assert.Equal(missing.LogLikelihood, skipped.LogLikelihood);
        Assert.Equal(missing.Iterations, skipped.Iterations);
        Assert.Equal(missing.Model.Transition.ToArray(), skipped.Model.Transition.ToArray());
        Assert.Equal(missing.LogLikelihood, BaumWelch.Evaluate(skipped.Model, [new ObservationSeries(1, readings)]));
    }

    private static bool IsOutsideTheSupport(HiddenMarkovModel model, double y) => !double.IsNaN(y) && !model.Emission.Accepts([y]);

    private static double[] StreamingLogLikelihoods(HiddenMarkovModel model, double[] readings)
    {
        var filter = new HiddenMarkovFilter(model);
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var estimate = new Estimate(filter.Info);
        var result = new double[readings.Length];
        for (var t = 0; t < readings.Length; t++)
        {
            filter.Step(state, new Observation([readings[t]]), estimate, default);
            result[t] = estimate.LogLikelihood;
        }

        return result;
    }
}
