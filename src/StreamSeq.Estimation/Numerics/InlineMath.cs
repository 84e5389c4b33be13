using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace StreamSeq.Estimation.Numerics;

/// <summary>
/// Exponential (four doubles at once) and logarithm written out in managed code, so hot loops inline them instead
/// of calling the C library (a call also forces the caller's vector registers out to memory).
/// </summary>
/// <remarks>
/// <para><see cref="Exp(Vector256{double})"/>: x = n·ln 2 + r with |r| ≤ ln 2 / 2 (n from a round-to-nearest shifter, ln 2 split in a high and a low part),
/// e^r − 1 from its Taylor polynomial of degree 13 (truncation error below 10⁻¹⁷) evaluated by Estrin's scheme so the
/// dependency chain stays short, and 2ⁿ applied as two exact power-of-two factors so results that are subnormal or
/// overflow come out right. The result is within about one ulp of the correctly rounded value over the whole range:
/// e^x = +∞ above about 709.78, gradual underflow below −708.4, 0 below about −745.13, e^(−∞) = 0, e^(+∞) = +∞, NaN
/// stays NaN.</para>
/// <para>The scalar overload runs the same vector code on a broadcast value, so a value computed one at a time
/// equals the same value computed in a vector lane bit for bit.</para>
/// <para><see cref="Log(double)"/>: x = 2^k·m with m in [√½, √2), f = m − 1 (exact), s = f/(2 + f), and
/// ln m = 2 artanh s = f − s·(f − R) with R = Σ_{n=1}^{10} 2 s^{2n}/(2n + 1) (truncation error below 10⁻¹⁸ since
/// s² ≤ 0.0295); the leading f carries no rounding error, so the result is within about one ulp. Inputs that are not
/// positive normal numbers go to <see cref="Math.Log(double)"/>. The vector overload runs the same operations lane by
/// lane, so it agrees with the scalar one bit for bit.</para>
/// </remarks>
internal static class InlineMath
{
    private const double Log2E = 1.4426950408889634;
    private const double Ln2High = 0.693147180369123816490;
    private const double Ln2Low = 1.90821492927058770002e-10;
    private const double Shifter = 6755399441055744.0; // 1.5 · 2^52: adding it rounds to an integer in the low bits.
    private const double Lowest = -746.0; // e^x rounds to 0 at and below this.
    private const double Highest = 710.0; // e^x is +∞ above this; clamping keeps n ≤ 1025.
    private const double LowestNormal = -708.0; // From here up to HighestFinite, e^x and 2ⁿ are normal numbers.
    private const double HighestFinite = 709.0;
    private const long SmallestNormalBits = 0x0010000000000000L;
    private const ulong PositiveNormalSpan = 0x7FE0000000000000UL;
    private const long SqrtHalfBits = 0x3FE6A09E667F3BCDL;

    /// <summary>e^x lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Exp(Vector256<double> x)
    {
        var inRange = Vector256.GreaterThanOrEqual(x, Vector256.Create(LowestNormal)) & Vector256.LessThanOrEqual(x, Vector256.Create(HighestFinite));
        if (inRange.AsUInt64() != Vector256<ulong>.AllBitsSet)
        {
            return Wide(x);
        }

        // Every result is a normal number: one power-of-two factor.
        var (q, integer) = Core(x);
        var scale = Vector256.ShiftLeft(integer + Vector256.Create(1023L), 52).AsDouble();
        return Fma(q, scale, scale);
    }

    /// <summary>e^x, bit-identical to a lane of <see cref="Exp(Vector256{double})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Exp(double x) => Exp(Vector256.Create(x)).ToScalar();

    /// <summary>
    /// Some lane may underflow, overflow or be NaN. Lanes that certainly give 0 are computed from a harmless input
    /// and replaced, because producing a subnormal or zero by multiplication is slow on many processors; the rest get
    /// 2ⁿ as two exact factors, so gradual underflow and overflow round correctly. The values agree with the fast
    /// path's wherever both apply.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector256<double> Wide(Vector256<double> x)
    {
        var zero = Vector256.LessThanOrEqual(x, Vector256.Create(Lowest));
        var clamped = Vector256.MinNative(Vector256.ConditionalSelect(zero, Vector256<double>.Zero, x), Vector256.Create(Highest));
        var (q, integer) = Core(clamped);

        // 2ⁿ = 2^(n − ⌊n/2⌋) · 2^⌊n/2⌋, both factors normal numbers.
        var half = Vector256.ShiftRightArithmetic(integer, 1);
        var bias = Vector256.Create(1023L);
        var scale1 = Vector256.ShiftLeft(half + bias, 52).AsDouble();
        var scale2 = Vector256.ShiftLeft(integer - half + bias, 52).AsDouble();
        var result = Vector256.ConditionalSelect(zero, Vector256<double>.Zero, Fma(q, scale1, scale1) * scale2);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
    }

    /// <summary>q = e^r − 1 and the integer n with x = n·ln 2 + r, |r| ≤ ln 2 / 2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<double> Q, Vector256<long> N) Core(Vector256<double> x)
    {
        var shifter = Vector256.Create(Shifter);
        var t = Fma(x, Vector256.Create(Log2E), shifter);
        var n = t - shifter;
        var r = Fma(n, Vector256.Create(-Ln2High), x);
        r = Fma(n, Vector256.Create(-Ln2Low), r);

        // e^r − 1 = r · Σ_{i=0}^{12} r^i / (i+1)!, by Estrin's scheme.
        var r2 = r * r;
        var r4 = r2 * r2;
        var r8 = r4 * r4;
        var a0 = Fma(r, Vector256.Create(1.0 / 2.0), Vector256<double>.One);
        var a1 = Fma(r, Vector256.Create(1.0 / 24.0), Vector256.Create(1.0 / 6.0));
        var a2 = Fma(r, Vector256.Create(1.0 / 720.0), Vector256.Create(1.0 / 120.0));
        var a3 = Fma(r, Vector256.Create(1.0 / 40320.0), Vector256.Create(1.0 / 5040.0));
        var a4 = Fma(r, Vector256.Create(1.0 / 3628800.0), Vector256.Create(1.0 / 362880.0));
        var a5 = Fma(r, Vector256.Create(1.0 / 479001600.0), Vector256.Create(1.0 / 39916800.0));
        var a6 = Vector256.Create(1.0 / 6227020800.0);
        var b0 = Fma(a1, r2, a0);
        var b1 = Fma(a3, r2, a2);
        var b2 = Fma(a5, r2, a4);
        var c0 = Fma(b1, r4, b0);
        var c1 = Fma(a6, r4, b2);
        var q = Fma(c1, r8, c0) * r;
        return (q, t.AsInt64() - shifter.AsInt64());
    }

    /// <summary>ln x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Log(double x)
    {
        var bits = BitConverter.DoubleToInt64Bits(x);
        if ((ulong)(bits - SmallestNormalBits) >= PositiveNormalSpan)
        {
            return Math.Log(x);
        }

        // k = the exponent that brings x into [√½, √2), m = x / 2^k (exponent bits only, so exact).
        var k = (bits - SqrtHalfBits) >> 52;
        var m = BitConverter.Int64BitsToDouble(bits - (k << 52));
        var f = m - 1.0;
        var s = f / (2.0 + f);
        var z = s * s;
        var r = Math.FusedMultiplyAdd(z, 2.0 / 21.0, 2.0 / 19.0);
        r = Math.FusedMultiplyAdd(z, r, 2.0 / 17.0);
        r = Math.FusedMultiplyAdd(z, r, 2.0 / 15.0);
        r = Math.FusedMultiplyAdd(z, r, 2.0 / 13.0);
        r = Math.FusedMultiplyAdd(z, r, 2.0 / 11.0);
        r = Math.FusedMultiplyAdd(z, r, 2.0 / 9.0);
        r = Math.FusedMultiplyAdd(z, r, 2.0 / 7.0);
        r = Math.FusedMultiplyAdd(z, r, 2.0 / 5.0);
        r = Math.FusedMultiplyAdd(z, r, 2.0 / 3.0);
        r *= z;
        var logM = Math.FusedMultiplyAdd(-s, f - r, f);

        // k·ln2High is exact (ln2High has 32 significant bits), so this adds k·ln 2 with one rounding.
        double n = k;
        return (n * Ln2High) + Math.FusedMultiplyAdd(n, Ln2Low, logM);
    }

    /// <summary>ln x lane by lane, bit-identical to <see cref="Log(double)"/> on each lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Log(Vector256<double> x)
    {
        var bits = x.AsInt64();
        var outside = Vector256.GreaterThanOrEqual((bits - Vector256.Create(SmallestNormalBits)).AsUInt64(), Vector256.Create(PositiveNormalSpan));
        if (outside != Vector256<ulong>.Zero)
        {
            return LogLanes(x);
        }

        var k = Vector256.ShiftRightArithmetic(bits - Vector256.Create(SqrtHalfBits), 52);
        var m = (bits - Vector256.ShiftLeft(k, 52)).AsDouble();
        var f = m - Vector256<double>.One;
        var s = f / (Vector256.Create(2.0) + f);
        var z = s * s;
        var r = Fma(z, Vector256.Create(2.0 / 21.0), Vector256.Create(2.0 / 19.0));
        r = Fma(z, r, Vector256.Create(2.0 / 17.0));
        r = Fma(z, r, Vector256.Create(2.0 / 15.0));
        r = Fma(z, r, Vector256.Create(2.0 / 13.0));
        r = Fma(z, r, Vector256.Create(2.0 / 11.0));
        r = Fma(z, r, Vector256.Create(2.0 / 9.0));
        r = Fma(z, r, Vector256.Create(2.0 / 7.0));
        r = Fma(z, r, Vector256.Create(2.0 / 5.0));
        r = Fma(z, r, Vector256.Create(2.0 / 3.0));
        r *= z;
        var logM = Fma(-s, f - r, f);
        // k as a double without a long-to-double conversion instruction: |k| < 2^51, so adding it to the bits of
        // 1.5·2^52 and subtracting 1.5·2^52 is exact.
        var n = (k + Vector256.Create(Shifter).AsInt64()).AsDouble() - Vector256.Create(Shifter);
        return (n * Vector256.Create(Ln2High)) + Fma(n, Vector256.Create(Ln2Low), logM);
    }

    /// <summary>ln of each element of <paramref name="x"/> into <paramref name="result"/> (same length or longer).</summary>
    public static void Log(ReadOnlySpan<double> x, Span<double> result)
    {
        var count = x.Length;
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var rr = ref MemoryMarshal.GetReference(result[..count]);
        var i = 0;
        for (; i <= count - 4; i += 4)
        {
            Log(Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref rr, (nuint)i);
        }

        for (; i < count; i++)
        {
            result[i] = Log(x[i]);
        }
    }

    /// <summary>Some lane is not a positive normal number: one lane at a time.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector256<double> LogLanes(Vector256<double> x) =>
        Vector256.Create(Log(x.GetElement(0)), Log(x.GetElement(1)), Log(x.GetElement(2)), Log(x.GetElement(3)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Fma(Vector256<double> a, Vector256<double> b, Vector256<double> c) =>
        Vector256.FusedMultiplyAdd(a, b, c);
}
