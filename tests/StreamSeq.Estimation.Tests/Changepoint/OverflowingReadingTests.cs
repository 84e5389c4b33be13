using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Changepoint;

namespace StreamSeq.Estimation.Tests.Changepoint;

/// <summary>
/// A reading so far from every segment that its squared distance overflows (1e200 with unit variances) has density 0
/// under every run-length hypothesis in double precision. As the Kalman filter does, it is skipped with log-likelihood
/// −∞ and NIS +∞ (so anomaly rules fire) and the detector goes on exactly as if the reading were missing; it used to
/// re-initialise the stream, losing the run-length posterior, and wrote no log-likelihood at all.
/// </summary>
public sealed class OverflowingReadingTests
{
    public static TheoryData<string, RunLengthRecursion, int> Cases => new()
    {
        { "known", RunLengthRecursion.Changepoint, 500 },
        { "known", RunLengthRecursion.AdamsMacKay, 500 },
        { "gamma", RunLengthRecursion.Changepoint, 500 },
        { "gamma", RunLengthRecursion.AdamsMacKay, 500 },
        { "gamma", RunLengthRecursion.Changepoint, 3 },
        { "known", RunLengthRecursion.AdamsMacKay, 3 },
        { "known2", RunLengthRecursion.Changepoint, 500 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Step_ReadingWhoseDistanceOverflows_IsSkippedLikeAMissingReading(string model, RunLengthRecursion recursion, int maxRunLength)
    {
        SegmentModel segments = model switch
        {
            "known" => new NormalKnownVarianceModel([1.0], [0.0], [9.0]),
            "known2" => new NormalKnownVarianceModel([1.0, 2.0], [0.0, 1.0], [9.0, 4.0]),
            _ => new NormalGammaModel([0.0], [1.0], [2.0], [1.0]),
        };
        var detector = new BayesianChangepointDetector(new WeibullHazard(6, 1.5), segments, maxRunLength, 0.0, recursion);
        var m = segments.Dimension;
        double[] readings = [0.1, 0.3, -0.2, 1.9, 2.2, 2.0, 1.8, 2.1, double.NaN, 0.4, 0.2, -0.1, 0.3];
        const int at = 5;

        var outlier = Run(detector, m, readings, at, 1e200);
        var missing = Run(detector, m, readings, at, double.NaN);

        var skipped = outlier[at];
        Assert.Equal(EstimateFlags.ObservationSkipped, skipped.Flags);
        Assert.Equal(double.NegativeInfinity, skipped.LogLikelihood);
        Assert.Equal(double.PositiveInfinity, skipped.NormalizedInnovationSquared);
        Assert.Equal(m, skipped.ObservedCount);
        for (var t = 0; t < readings.Length; t++)
        {
            var a = outlier[t];
            var b = missing[t];
            Assert.Equal(b.StateMean, a.StateMean);
            Assert.Equal(b.StateCovariance, a.StateCovariance);
            Assert.Equal(b.Extras, a.Extras);
            if (t != at)
            {
                Assert.Equal(b.Flags, a.Flags);
                Assert.Equal(b.LogLikelihood, a.LogLikelihood);
            }
        }
    }

    private static List<Estimate> Run(BayesianChangepointDetector detector, int m, double[] readings, int at, double value)
    {
        var state = new double[detector.Info.StateLength];
        detector.Initialize(state, 0);
        var list = new List<Estimate>();
        for (var t = 0; t < readings.Length; t++)
        {
            var y = new double[m];
            for (var c = 0; c < m; c++)
            {
                // A second component is observed beside the outlier (the whole reading is skipped) and missing with it.
                y[c] = t != at ? (c == 0 ? readings[t] : 1.0 + (0.1 * t)) : c == 0 || double.IsNaN(value) ? value : 0.5;
            }

            var estimate = new Estimate(detector.Info);
            detector.Step(state, new Observation(y), estimate, default);
            list.Add(estimate);
        }

        return list;
    }
}
