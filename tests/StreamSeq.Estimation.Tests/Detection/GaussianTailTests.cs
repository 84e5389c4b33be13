using StreamSeq.Estimation.Detection;

namespace StreamSeq.Estimation.Tests.Detection;

/// <summary>The log normal upper tail against tabulated values of Q(z) = P(Z ≥ z).</summary>
public sealed class GaussianTailTests
{
    [Theory]
    [InlineData(0.0, 0.5)]
    [InlineData(1.0, 0.15865525393145705)]
    [InlineData(1.959963984540054, 0.025)]
    [InlineData(-1.0, 0.8413447460685429)]
    [InlineData(-3.0, 0.9986501019683699)]
    [InlineData(5.0, 2.866515718791939e-7)]
    [InlineData(10.0, 7.619853024160527e-24)]
    [InlineData(30.0, 4.906713927148187e-198)]
    public void LogUpper_TabulatedValues_MatchToSevenDigits(double z, double q)
    {
        var log = GaussianTail.LogUpper(z);

        Assert.Equal(Math.Log(q), log, 1e-6 * Math.Max(1.0, Math.Abs(Math.Log(q))));
    }

    [Fact]
    public void LogUpper_FarTail_FollowsTheMillsRatioAsymptote()
    {
        // Q(z) ~ φ(z)/z (1 − 1/z² + 3/z⁴) for large z; at z = 40 the bracket's next term is below 1e-6.
        const double Z = 40.0;
        var expected = (-0.5 * Z * Z) - Math.Log(Z * Math.Sqrt(2.0 * Math.PI)) + Math.Log(1.0 - (1.0 / (Z * Z)) + (3.0 / Math.Pow(Z, 4)));

        Assert.Equal(expected, GaussianTail.LogUpper(Z), 1e-6 * Math.Abs(expected));
    }
}
