using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// Vectorised logistic sigmoid and hyperbolic tangent, applied in place.
/// </summary>
/// <remarks>
/// <para>
/// Both are built on one exponential kernel: x = n·ln 2 + r with |r| ≤ ln 2 / 2 (n from a round-to-nearest shifter,
/// ln 2 split in a high and a low part), e^r − 1 from its Taylor polynomial (degree 13 in double, 7 in single
/// precision, truncation error below half an ulp), and 2ⁿ assembled in the exponent bits. Then
/// sigmoid(x) = 1 / (1 + e^(−x)) and tanh(x) = sign(x)·(−m / (2 + m)) with m = e^(−2|x|) − 1, which keeps full relative
/// accuracy near zero. Results are within a few ulps of the correctly rounded values; NaN propagates.
/// </para>
/// <para>
/// Every element, including a tail shorter than a vector, goes through the same vector code, so the value computed
/// for an element does not depend on its position or on the span length (a batch of streams gives the same values
/// as one stream at a time).
/// </para>
/// </remarks>
internal static class Activations
{
    public static void Sigmoid<T>(Span<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            Apply<double, SigmoidDoubleOp>(MemoryMarshal.Cast<T, double>(values));
        }
        else if (typeof(T) == typeof(float))
        {
            Apply<float, SigmoidSingleOp>(MemoryMarshal.Cast<T, float>(values));
        }
        else
        {
            throw new NotSupportedException($"No sigmoid for {typeof(T).Name}.");
        }
    }

    public static void Tanh<T>(Span<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double))
        {
            Apply<double, TanhDoubleOp>(MemoryMarshal.Cast<T, double>(values));
        }
        else if (typeof(T) == typeof(float))
        {
            Apply<float, TanhSingleOp>(MemoryMarshal.Cast<T, float>(values));
        }
        else
        {
            throw new NotSupportedException($"No tanh for {typeof(T).Name}.");
        }
    }

    [SkipLocalsInit]
    private static void Apply<TValue, TFunction>(Span<TValue> values)
        where TValue : unmanaged
        where TFunction : struct, IVectorFunction<TValue>
    {
        ref var origin = ref MemoryMarshal.GetReference(values);
        var count = Vector<TValue>.Count;
        var k = 0;
        for (; k + count <= values.Length; k += count)
        {
            TFunction.Invoke(Vector.LoadUnsafe(ref origin, (nuint)k)).StoreUnsafe(ref origin, (nuint)k);
        }

        if (k < values.Length)
        {
            Span<TValue> tail = stackalloc TValue[count];
            tail.Clear();
            var rest = values[k..];
            rest.CopyTo(tail);
            TFunction.Invoke(new Vector<TValue>(tail)).CopyTo(tail);
            tail[..rest.Length].CopyTo(rest);
        }
    }

    private interface IVectorFunction<TValue>
        where TValue : unmanaged
    {
        static abstract Vector<TValue> Invoke(Vector<TValue> x);
    }

    private readonly struct SigmoidDoubleOp : IVectorFunction<double>
    {
        public static Vector<double> Invoke(Vector<double> x) => SigmoidDouble(x);
    }

    private readonly struct TanhDoubleOp : IVectorFunction<double>
    {
        public static Vector<double> Invoke(Vector<double> x) => TanhDouble(x);
    }

    private readonly struct SigmoidSingleOp : IVectorFunction<float>
    {
        public static Vector<float> Invoke(Vector<float> x) => SigmoidSingle(x);
    }

    private readonly struct TanhSingleOp : IVectorFunction<float>
    {
        public static Vector<float> Invoke(Vector<float> x) => TanhSingle(x);
    }

    // ---- double ----

    private const double Log2E = 1.4426950408889634;
    private const double Ln2High = 0.693147180369123816490;
    private const double Ln2Low = 1.90821492927058770002e-10;
    private const double ShifterDouble = 6755399441055744.0; // 1.5 · 2^52

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<double> SigmoidDouble(Vector<double> x)
    {
        var e = ExpDouble(Vector.MinNative(Vector.MaxNative(-x, new Vector<double>(-708.0)), new Vector<double>(708.0)));
        var s = Vector<double>.One / (Vector<double>.One + e);
        return Vector.ConditionalSelect(Vector.Equals(x, x), s, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<double> TanhDouble(Vector<double> x)
    {
        var a = Vector.MaxNative(Vector.Abs(x) * new Vector<double>(-2.0), new Vector<double>(-708.0));
        var (q, scale) = ExpCoreDouble(a);
        var m = Fma(q, scale, scale - Vector<double>.One);
        var t = -m / (new Vector<double>(2.0) + m);
        var signed = Vector.ConditionalSelect(new Vector<long>(long.MinValue).As<long, double>(), x, t);
        return Vector.ConditionalSelect(Vector.Equals(x, x), signed, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<double> ExpDouble(Vector<double> x)
    {
        var (q, scale) = ExpCoreDouble(x);
        return Fma(q, scale, scale);
    }

    /// <summary>For x in the clamped range: e^x = (1 + q)·scale with q = e^r − 1 and scale = 2ⁿ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector<double> Q, Vector<double> Scale) ExpCoreDouble(Vector<double> x)
    {
        var shifter = new Vector<double>(ShifterDouble);
        var t = Fma(x, new Vector<double>(Log2E), shifter);
        var n = t - shifter;
        var r = Fma(n, new Vector<double>(-Ln2High), x);
        r = Fma(n, new Vector<double>(-Ln2Low), r);

        // e^r − 1 = r·(1 + r/2! + r²/3! + … + r¹²/13!)
        var p = new Vector<double>(1.0 / 6227020800.0);
        p = Fma(p, r, new Vector<double>(1.0 / 479001600.0));
        p = Fma(p, r, new Vector<double>(1.0 / 39916800.0));
        p = Fma(p, r, new Vector<double>(1.0 / 3628800.0));
        p = Fma(p, r, new Vector<double>(1.0 / 362880.0));
        p = Fma(p, r, new Vector<double>(1.0 / 40320.0));
        p = Fma(p, r, new Vector<double>(1.0 / 5040.0));
        p = Fma(p, r, new Vector<double>(1.0 / 720.0));
        p = Fma(p, r, new Vector<double>(1.0 / 120.0));
        p = Fma(p, r, new Vector<double>(1.0 / 24.0));
        p = Fma(p, r, new Vector<double>(1.0 / 6.0));
        p = Fma(p, r, new Vector<double>(0.5));
        p = Fma(p, r, Vector<double>.One);
        var q = p * r;

        var exponent = (t.As<double, long>() - shifter.As<double, long>() + new Vector<long>(1023)) << 52;
        return (q, exponent.As<long, double>());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<double> Fma(Vector<double> a, Vector<double> b, Vector<double> c) => Vector.FusedMultiplyAdd(a, b, c);

    // ---- float ----

    private const float Log2EF = 1.44269504f;
    private const float Ln2HighF = 0.693359375f;
    private const float Ln2LowF = -2.12194440e-4f;
    private const float ShifterSingle = 12582912.0f; // 1.5 · 2^23

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> SigmoidSingle(Vector<float> x)
    {
        var e = ExpSingle(Vector.MinNative(Vector.MaxNative(-x, new Vector<float>(-87.0f)), new Vector<float>(87.0f)));
        var s = Vector<float>.One / (Vector<float>.One + e);
        return Vector.ConditionalSelect(Vector.Equals(x, x), s, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> TanhSingle(Vector<float> x)
    {
        var a = Vector.MaxNative(Vector.Abs(x) * new Vector<float>(-2.0f), new Vector<float>(-87.0f));
        var (q, scale) = ExpCoreSingle(a);
        var m = Fma(q, scale, scale - Vector<float>.One);
        var t = -m / (new Vector<float>(2.0f) + m);
        var signed = Vector.ConditionalSelect(new Vector<int>(int.MinValue).As<int, float>(), x, t);
        return Vector.ConditionalSelect(Vector.Equals(x, x), signed, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> ExpSingle(Vector<float> x)
    {
        var (q, scale) = ExpCoreSingle(x);
        return Fma(q, scale, scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector<float> Q, Vector<float> Scale) ExpCoreSingle(Vector<float> x)
    {
        var shifter = new Vector<float>(ShifterSingle);
        var t = Fma(x, new Vector<float>(Log2EF), shifter);
        var n = t - shifter;
        var r = Fma(n, new Vector<float>(-Ln2HighF), x);
        r = Fma(n, new Vector<float>(-Ln2LowF), r);

        // e^r − 1 = r·(1 + r/2! + … + r⁶/7!)
        var p = new Vector<float>(1.0f / 5040.0f);
        p = Fma(p, r, new Vector<float>(1.0f / 720.0f));
        p = Fma(p, r, new Vector<float>(1.0f / 120.0f));
        p = Fma(p, r, new Vector<float>(1.0f / 24.0f));
        p = Fma(p, r, new Vector<float>(1.0f / 6.0f));
        p = Fma(p, r, new Vector<float>(0.5f));
        p = Fma(p, r, Vector<float>.One);
        var q = p * r;

        var exponent = (t.As<float, int>() - shifter.As<float, int>() + new Vector<int>(127)) << 23;
        return (q, exponent.As<int, float>());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Fma(Vector<float> a, Vector<float> b, Vector<float> c) => Vector.FusedMultiplyAdd(a, b, c);
}
