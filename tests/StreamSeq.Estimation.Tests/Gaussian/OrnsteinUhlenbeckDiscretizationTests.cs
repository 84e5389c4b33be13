using StreamSeq.Estimation.Gaussian.ContinuousTime;

namespace StreamSeq.Estimation.Tests.Gaussian;

/// <summary>
/// The Ornstein–Uhlenbeck discretisation to full relative accuracy where θΔt is small (slow mean reversion, readings
/// close together): Q = σ²/(2θ)(1 − e^{−2θΔt}) and c = μ(1 − e^{−θΔt}), compared with 1 − e^{−x} from its Taylor
/// series (for x ≤ 1e-3, where the series to x⁴ is exact to 1e-17 relative) and directly (for x ≥ 0.5, where the
/// subtraction loses nothing).
/// </summary>
public sealed class OrnsteinUhlenbeckDiscretizationTests
{
    [Theory]
    [InlineData(1e-6, 1e-3)]
    [InlineData(1e-6, 1.0)]
    [InlineData(1e-3, 1e-6)]
    [InlineData(2.5e-4, 0.4)]
    [InlineData(0.5, 1e-12)]
    [InlineData(3.0, 1e-9)]
    [InlineData(0.25, 2.0)]
    [InlineData(2.0, 10.0)]
    public void Discretize_NoiseAndOffset_HaveFullRelativeAccuracy(double theta, double gap)
    {
        const double sigma = 1.7;
        const double mu = 12.5;
        var ou = new OrnsteinUhlenbeck(theta, mu, sigma);
        var transition = new double[1];
        var noise = new double[1];
        var offset = new double[1];
        ou.Discretize(gap, transition, noise, offset);

        var expectedNoise = sigma * sigma / (2.0 * theta) * OneMinusExpMinus(2.0 * theta * gap);
        var expectedOffset = mu * OneMinusExpMinus(theta * gap);
        Assert.True(Math.Abs(noise[0] - expectedNoise) <= 1e-15 * expectedNoise, $"Q: expected {expectedNoise:R}, got {noise[0]:R} (relative {Math.Abs(noise[0] - expectedNoise) / expectedNoise:G3})");
        Assert.True(Math.Abs(offset[0] - expectedOffset) <= 1e-15 * expectedOffset, $"c: expected {expectedOffset:R}, got {offset[0]:R} (relative {Math.Abs(offset[0] - expectedOffset) / expectedOffset:G3})");
        Assert.Equal(Math.Exp(-theta * gap), transition[0]);
    }

    private static double OneMinusExpMinus(double x)
    {
        if (x <= 1e-3)
        {
            return x * (1.0 - (x / 2.0 * (1.0 - (x / 3.0 * (1.0 - (x / 4.0))))));
        }

        Assert.True(x >= 0.5, "the reference is exact only for x <= 1e-3 or x >= 0.5");
        return 1.0 - Math.Exp(-x);
    }
}
