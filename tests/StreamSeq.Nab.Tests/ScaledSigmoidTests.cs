namespace StreamSeq.Nab.Tests;

public sealed class ScaledSigmoidTests
{
    [Theory]
    [InlineData(-3.0)]
    [InlineData(-1.0)]
    [InlineData(-0.5)]
    [InlineData(0.0)]
    [InlineData(0.3)]
    [InlineData(1.0)]
    [InlineData(2.999)]
    [InlineData(3.0)]
    public void Evaluate_UpToThree_EqualsMinusTanhOfTwoAndAHalfX(double x)
    {
        // 2 / (1 + e^{5x}) - 1 = (1 - e^{5x}) / (1 + e^{5x}) = -tanh(5x / 2).
        Assert.Equal(-Math.Tanh(2.5 * x), ScaledSigmoid.Evaluate(x), 1e-15);
    }

    [Theory]
    [InlineData(3.0000001)]
    [InlineData(10.0)]
    [InlineData(double.PositiveInfinity)]
    public void Evaluate_BeyondThree_IsMinusOne(double x)
    {
        Assert.Equal(-1.0, ScaledSigmoid.Evaluate(x));
    }

    [Fact]
    public void MaxTruePositive_IsTheLeftEdgeValue()
    {
        // NAB documents s(-1) = 0.98661 (the earliest detection before rescaling).
        Assert.Equal(Math.Tanh(2.5), ScaledSigmoid.MaxTruePositive, 1e-15);
        Assert.Equal(0.98661, ScaledSigmoid.MaxTruePositive, 5);
    }

    [Fact]
    public void Evaluate_AtRightEdge_IsZero()
    {
        Assert.Equal(0.0, ScaledSigmoid.Evaluate(0.0));
    }
}
