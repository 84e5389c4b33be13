using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;

namespace StreamSeq.Estimation.Tests.Discrete;

/// <summary>
/// A reading outside every emission's support (a category index that is negative, fractional or ≥ C; a count that is
/// negative or fractional) has probability zero in every state, so it is scored as an impossible reading is: the
/// filter skips it with log p(y_t | y_1:t−1) = −∞ and NIS = +∞, counts it as observed and carries the prediction
/// forward. Before, it came out with LogLikelihood and NIS NaN, which no log-likelihood or NIS rule fired on.
/// Expected densities: scipy.stats (poisson.logpmf(-1, 2) = poisson.logpmf(2.5, 2) = −inf; a three-point
/// rv_discrete's logpmf at −1, 1.5 and 3 = −inf); the rest are properties of a zero-probability reading.
/// </summary>
public sealed class HmmOutOfSupportReadingTests
{
    private static HiddenMarkovModel Categorical() =>
        new([0.3, 0.7], [0.9, 0.1, 0.2, 0.8], new CategoricalEmission([0.5, 0.5, 0.0, 0.2, 0.3, 0.5], 3));

    private static HiddenMarkovModel Poisson() =>
        new([0.3, 0.7], [0.9, 0.1, 0.2, 0.8], new PoissonEmission([1.0, 6.0]));

    public static TheoryData<string, double> Readings() => new()
    {
        { "categorical", -1.0 },
        { "categorical", 1.5 },
        { "categorical", 3.0 },
        { "categorical", 1e300 },
        { "poisson", -1.0 },
        { "poisson", -0.5 },
        { "poisson", 2.5 },
    };

    private static HiddenMarkovModel Model(string family) => family == "categorical" ? Categorical() : Poisson();

    [Theory]
    [MemberData(nameof(Readings))]
    public void Step_ReadingOutsideEverySupport_IsScoredAsImpossibleAndCarriesThePrediction(string family, double reading)
    {
        var filter = new HiddenMarkovFilter(Model(family));
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var est = new Estimate(filter.Info);
        filter.Step(state, new Observation([1.0]), est, default);

        filter.Step(state, new Observation([reading]), est, default);

        Assert.Equal(EstimateFlags.ObservationSkipped, est.Flags);
        Assert.Equal(double.NegativeInfinity, est.LogLikelihood);
        Assert.Equal(double.PositiveInfinity, est.NormalizedInnovationSquared);
        Assert.Equal(1, est.ObservedCount);
        Assert.Equal(est.PredictedMean, est.StateMean);
    }

    [Theory]
    [MemberData(nameof(Readings))]
    public void Step_ReadingOutsideEverySupport_LeavesTheStreamAsAMissingReadingWould(string family, double reading)
    {
        // The reading carries no information: every later step matches a stream that saw a gap in its place.
        var model = Model(family);
        var skipped = Run(model, [1.0, reading, 2.0, 0.0, 1.0]);
        var missing = Run(model, [1.0, double.NaN, 2.0, 0.0, 1.0]);
        for (var t = 2; t < skipped.Count; t++)
        {
            Assert.Equal(missing[t], skipped[t]);
        }
    }

    [Theory]
    [MemberData(nameof(Readings))]
    public void LogDensity_ReadingOutsideTheSupport_IsMinusInfinityInEveryState(string family, double reading)
    {
        var emission = Model(family).Emission;
        var all = new double[emission.StateCount];
        emission.LogDensities([reading], all);
        for (var k = 0; k < emission.StateCount; k++)
        {
            Assert.Equal(double.NegativeInfinity, emission.LogDensity(k, [reading]));
            Assert.Equal(double.NegativeInfinity, all[k]);
        }
    }

    private static List<double[]> Run(HiddenMarkovModel model, double[] readings)
    {
        var filter = new HiddenMarkovFilter(model);
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var est = new Estimate(filter.Info);
        var rows = new List<double[]>();
        foreach (var y in readings)
        {
            filter.Step(state, new Observation([y]), est, default);
            rows.Add([.. est.StateMean, est.LogLikelihood]);
        }

        return rows;
    }
}
