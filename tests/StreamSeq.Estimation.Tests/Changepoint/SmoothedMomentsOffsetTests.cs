using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Changepoint;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Changepoint;

/// <summary>
/// The smoothed segment mean of readings at a large offset (1e8 with a spread of order one): its variance must not
/// depend on the offset.
/// </summary>
public sealed class SmoothedMomentsOffsetTests
{
    private static readonly double[] Centred = [0.25, -0.5, 0.125, 3.0, 3.5, 2.625, -1.25, -0.75];

    // Enumeration of all 128 segmentations in centred coordinates (Python, double precision): constant hazard 0.2,
    // x ~ N(mu, 1), mu ~ N(0, 9); for each t the mixture over segmentations of the posterior of t's segment mean,
    // mean = sum w m and variance = sum w (v + (m - mean)^2).
    private static readonly double[] ExpectedMean =
    [
        0.014567750804059523, -0.02036290120687357, 0.11810961624864037, 2.801948742381068,
        2.879882587229384, 2.7983044059726936, -0.9343182903495615, -0.8991905821403663,
    ];

    private static readonly double[] ExpectedVariance =
    [
        0.4388904972748961, 0.41296439855135336, 0.6483754481408112, 0.5532305523260685,
        0.4121509239217712, 0.5337996579480605, 0.5660803377728176, 0.5488903113993544,
    ];

    [Theory]
    [InlineData(0.0, RunLengthRecursion.Changepoint)]
    [InlineData(1e8, RunLengthRecursion.Changepoint)]
    [InlineData(1e8, RunLengthRecursion.AdamsMacKay)]
    [InlineData(-1e9, RunLengthRecursion.Changepoint)]
    public void FixedIntervalSmoother_ReadingsAtAnOffset_SmoothedVarianceIsTheEnumerations(double offset, RunLengthRecursion recursion)
    {
        // Readings and prior mean are shifted together, so the posterior is the centred one moved by the offset. The
        // readings are multiples of 1/8, exact at every offset used. The smoothed variance was formed as
        // E[mu^2] - E[mu]^2, both near 1e16 at offset 1e8 (spacing 2), and kept no correct digit.
        var detector = new BayesianChangepointDetector(new ConstantHazard(0.2), new NormalKnownVarianceModel([1.0], [offset], [9.0]), 100, 0.0, recursion);
        var series = new ObservationSeries(1, [.. Centred.Select(x => offset + x)]);
        var (means, covs) = FixedIntervalSmoother.Smooth(detector, series);
        var meanTolerance = offset == 0.0 ? 1e-12 : 1e-6;
        var varianceTolerance = offset == 0.0 ? 1e-11 : 1e-6;
        for (var t = 0; t < Centred.Length; t++)
        {
            Expect.Close(ExpectedMean[t], means[t] - offset, 0.0, $"t={t + 1} smoothed mean", absTol: meanTolerance);
            Expect.Close(ExpectedVariance[t], covs[t], varianceTolerance, $"t={t + 1} smoothed variance");
        }
    }
}
