using System.Runtime.Intrinsics;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Tests.Numerics;

/// <summary>The inlined exponential and logarithm against the runtime's <see cref="Math.Exp"/> and <see cref="Math.Log(double)"/>, independent implementations.</summary>
public sealed class InlineMathTests
{
    [Fact]
    public void Exp_WholeRange_WithinTwoUlpsOfMathExp()
    {
        var random = new Random(7);
        var worst = 0L;
        for (var i = 0; i < 200_000; i++)
        {
            // Uniform over the finite, non-underflowing range, plus a dense sample near zero.
            var x = i % 2 == 0 ? -708.0 + (random.NextDouble() * 1417.0) : (random.NextDouble() - 0.5) * 4.0;
            var expected = Math.Exp(x);
            var actual = InlineMath.Exp(x);
            var ulps = Math.Abs(BitConverter.DoubleToInt64Bits(actual) - BitConverter.DoubleToInt64Bits(expected));
            worst = Math.Max(worst, ulps);
            Assert.True(ulps <= 2, $"exp({x:R}) = {actual:R}, Math.Exp gives {expected:R} ({ulps} ulps apart)");
        }

        Assert.True(worst <= 2);
    }

    [Fact]
    public void LogVector_MixedInputs_EqualsScalarLogLaneByLane()
    {
        // Normal numbers over the whole exponent range, and blocks with a lane that takes the library fallback.
        var random = new Random(11);
        var x = new double[4003];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = Math.Exp((random.NextDouble() - 0.5) * 1400.0) * (1.0 + random.NextDouble());
        }

        x[5] = 0.0;
        x[10] = double.Epsilon;
        x[17] = -1.0;
        x[22] = double.PositiveInfinity;
        x[31] = double.NaN;
        var result = new double[x.Length];
        InlineMath.Log(x, result);
        for (var i = 0; i < x.Length; i++)
        {
            var scalar = InlineMath.Log(x[i]);
            Assert.True(BitConverter.DoubleToInt64Bits(scalar) == BitConverter.DoubleToInt64Bits(result[i]), $"ln({x[i]:R}): vector {result[i]:R}, scalar {scalar:R}");
            if (double.IsFinite(scalar) && x[i] >= 1e-300)
            {
                var ulps = Math.Abs(BitConverter.DoubleToInt64Bits(scalar) - BitConverter.DoubleToInt64Bits(Math.Log(x[i])));
                Assert.True(ulps <= 2 || Math.Abs(scalar) < 1e-300, $"ln({x[i]:R}) = {scalar:R}, Math.Log gives {Math.Log(x[i]):R}");
            }
        }
    }

    [Theory]
    [InlineData(-709.5)]
    [InlineData(-720.0)]
    [InlineData(-740.0)]
    [InlineData(-745.0)]
    public void Exp_SubnormalResults_CloseToMathExp(double x)
    {
        // Subnormals carry fewer significant bits: compare on the absolute scale of the smallest subnormal.
        var expected = Math.Exp(x);
        var actual = InlineMath.Exp(x);
        Assert.True(Math.Abs(actual - expected) <= Math.Max(2 * double.Epsilon, 4e-16 * expected), $"exp({x}) = {actual:R}, expected {expected:R}");
    }

    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(double.NegativeInfinity, 0.0)]
    [InlineData(-746.0, 0.0)]
    [InlineData(-1e300, 0.0)]
    [InlineData(709.9, double.PositiveInfinity)]
    [InlineData(1e300, double.PositiveInfinity)]
    [InlineData(double.PositiveInfinity, double.PositiveInfinity)]
    public void Exp_SpecialValues_MatchTheLimits(double x, double expected) => Assert.Equal(expected, InlineMath.Exp(x));

    [Fact]
    public void Exp_NaN_StaysNaN() => Assert.True(double.IsNaN(InlineMath.Exp(double.NaN)));

    [Fact]
    public void Exp_VectorLanes_EqualTheScalarOverloadBitForBit()
    {
        var x = Vector256.Create(-3.25, 0.125, 700.0, -712.5);
        var e = InlineMath.Exp(x);
        for (var i = 0; i < Vector256<double>.Count; i++)
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(InlineMath.Exp(x.GetElement(i))), BitConverter.DoubleToInt64Bits(e.GetElement(i)));
        }
    }

    [Fact]
    public void Log_PositiveNormals_WithinOneUlpOfMathLog()
    {
        var random = new Random(11);
        for (var i = 0; i < 200_000; i++)
        {
            // Log-uniform over the normal range, and uniform near 1 where the result is small.
            var x = i % 2 == 0 ? Math.Exp((random.NextDouble() - 0.5) * 1410.0) : 0.5 + random.NextDouble();
            var expected = Math.Log(x);
            var actual = InlineMath.Log(x);
            var ulps = Math.Abs(BitConverter.DoubleToInt64Bits(actual) - BitConverter.DoubleToInt64Bits(expected));
            Assert.True(ulps <= 1, $"log({x:R}) = {actual:R}, Math.Log gives {expected:R} ({ulps} ulps apart)");
        }
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.0)]
    [InlineData(0.5)]
    [InlineData(0.7071067811865476)]
    [InlineData(1.414213562373095)]
    [InlineData(2.2250738585072014e-308)]
    [InlineData(double.MaxValue)]
    public void Log_BoundariesOfTheReduction_WithinOneUlpOfMathLog(double x)
    {
        var ulps = Math.Abs(BitConverter.DoubleToInt64Bits(InlineMath.Log(x)) - BitConverter.DoubleToInt64Bits(Math.Log(x)));
        Assert.True(ulps <= 1, $"log({x:R}) is {ulps} ulps from Math.Log");
    }

    [Theory]
    [InlineData(double.Epsilon)]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NaN)]
    public void Log_InputsOutsideThePositiveNormals_MatchMathLog(double x) => Assert.Equal(Math.Log(x), InlineMath.Log(x));
}
