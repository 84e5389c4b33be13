using System.Numerics;

namespace StreamSeq.Estimation.Tests.Support;

/// <summary>
/// A real number as an integer count of 2^-<see cref="FractionBits"/>: every double converts exactly (down to
/// 2^-320, far below anything a test feeds it), sums are exact, and a product or quotient is rounded once at
/// 2^-320 ≈ 5e-97 absolute, so a few thousand operations on values up to 1e12 keep about 80 correct digits.
/// </summary>
internal readonly struct FixedPoint(BigInteger units)
{
    public const int FractionBits = 320;

    public static FixedPoint Zero => new(BigInteger.Zero);

    public BigInteger Units { get; } = units;

    public static FixedPoint From(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "only finite values have a fixed-point form");
        }

        if (value == 0.0)
        {
            return Zero;
        }

        var bits = BitConverter.DoubleToInt64Bits(value);
        var exponent = (int)((bits >> 52) & 0x7FF);
        var mantissa = bits & 0xF_FFFF_FFFF_FFFFL;
        if (exponent == 0)
        {
            exponent = 1;
        }
        else
        {
            mantissa |= 1L << 52;
        }

        // value = ±mantissa · 2^(exponent − 1075).
        var shift = exponent - 1075 + FractionBits;
        var magnitude = shift >= 0 ? new BigInteger(mantissa) << shift : new BigInteger(mantissa) >> -shift;
        return new FixedPoint(bits < 0 ? -magnitude : magnitude);
    }

    public static FixedPoint operator +(FixedPoint a, FixedPoint b) => new(a.Units + b.Units);

    public static FixedPoint operator -(FixedPoint a, FixedPoint b) => new(a.Units - b.Units);

    public static FixedPoint operator *(FixedPoint a, FixedPoint b) => new((a.Units * b.Units) >> FractionBits);

    public static FixedPoint operator /(FixedPoint a, FixedPoint b) => new((a.Units << FractionBits) / b.Units);

    /// <summary>The nearest double (to within one unit in the last place).</summary>
    public double ToDouble()
    {
        var magnitude = BigInteger.Abs(Units);
        var shift = Math.Max(0, (int)magnitude.GetBitLength() - 64);
        var value = Math.ScaleB((double)(magnitude >> shift), shift - FractionBits);
        return Units.Sign < 0 ? -value : value;
    }
}
