using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// Register-blocked matrix-matrix product with bias for the recurrent engines:
/// C[b, j] = bias[j] + Σ_{k &lt; K1} A1[b, k] W[k, j] + Σ_{k &lt; K2} A2[b, k] W[K1 + k, j], for b &lt; rows, j &lt; n.
/// </summary>
/// <remarks>
/// A1 (e.g. the layer input) and A2 (e.g. the previous hidden state) are row-major with their own row strides, so a
/// batch of per-stream states can be read in place. W is row-major (rows are input components, columns are gate
/// units) so each broadcast scalar of A meets a contiguous vector of W. Every output element is accumulated in the
/// same order (bias, then k ascending, one fused multiply-add per term) whatever tile computes it, so a row's result
/// does not depend on how many rows are computed together.
/// </remarks>
internal static class GemmKernel
{
    private const int PanelTiles = 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T>(
        int rows,
        ReadOnlySpan<T> a1, int lda1, int k1,
        ReadOnlySpan<T> a2, int lda2, int k2,
        ReadOnlySpan<T> w, int ldw,
        ReadOnlySpan<T> bias,
        Span<T> c, int ldc, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Debug.Assert(rows == 0 || k1 == 0 || a1.Length >= ((rows - 1) * lda1) + k1);
        Debug.Assert(rows == 0 || k2 == 0 || a2.Length >= ((rows - 1) * lda2) + k2);
        Debug.Assert(k1 + k2 == 0 || w.Length >= ((k1 + k2 - 1) * ldw) + n);
        Debug.Assert(bias.Length >= n);
        Debug.Assert(rows == 0 || c.Length >= ((rows - 1) * ldc) + n);

        ref var ra1 = ref MemoryMarshal.GetReference(a1);
        ref var ra2 = ref MemoryMarshal.GetReference(a2);
        ref var rw = ref MemoryMarshal.GetReference(w);
        ref var rb = ref MemoryMarshal.GetReference(bias);
        ref var rc = ref MemoryMarshal.GetReference(c);
        var v = Vector<T>.Count;
        var useVectors = Vector.IsHardwareAccelerated && Vector<T>.IsSupported;

        var fullRows = rows - (rows % 4);
        var j4End = 0;
        if (useVectors && Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            // Wide tiles first: 4 rows × 4 512-bit vectors (16 accumulators) per k step. One tile of W columns
            // (K × 4·w512) stays in L1 across all row blocks.
            var wide = Vector512<T>.Count;
            j4End = n - (n % (4 * wide));
            for (var j0 = 0; j0 < j4End; j0 += 4 * wide)
            {
                for (var b4 = 0; b4 < fullRows; b4 += 4)
                {
                    Tile4x4Wide(ref ra1, lda1, k1, ref ra2, lda2, k2, ref rw, ldw, ref rb, ref rc, ldc, b4, j0);
                }
            }
        }

        var j2End = useVectors ? n - ((n - j4End) % (2 * v)) : 0;
        var j1End = useVectors ? n - (n % v) : 0;

        // Column panels outermost: a panel of W (K × PanelTiles·2v) stays in L1 while every 4-row block of A passes
        // through it, and each block of A is reused across the panel's tiles.
        var panel = PanelTiles * 2 * v;
        for (var j0 = j4End; j0 < j2End; j0 += panel)
        {
            var jStop = int.Min(j0 + panel, j2End);
            for (var b4 = 0; b4 < fullRows; b4 += 4)
            {
                for (var j = j0; j < jStop; j += 2 * v)
                {
                    Tile4x2(ref ra1, lda1, k1, ref ra2, lda2, k2, ref rw, ldw, ref rb, ref rc, ldc, b4, j, v);
                }
            }
        }

        for (var b4 = 0; b4 < fullRows; b4 += 4)
        {
            for (var j = j2End; j < j1End; j += v)
            {
                for (var r = 0; r < 4; r++)
                {
                    Tile1x1(ref ra1, lda1, k1, ref ra2, lda2, k2, ref rw, ldw, ref rb, ref rc, ldc, b4 + r, j);
                }
            }

            for (var j = j1End; j < n; j++)
            {
                for (var r = 0; r < 4; r++)
                {
                    Scalar(ref ra1, lda1, k1, ref ra2, lda2, k2, ref rw, ldw, ref rb, ref rc, ldc, b4 + r, j);
                }
            }
        }

        var b = fullRows;
        var wideRow = useVectors && Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported;
        for (; b < rows; b++)
        {
            var j = 0;
            if (wideRow)
            {
                var wide = Vector512<T>.Count;
                for (; j + (4 * wide) <= n; j += 4 * wide)
                {
                    Tile1x4Wide(ref ra1, lda1, k1, ref ra2, lda2, k2, ref rw, ldw, ref rb, ref rc, ldc, b, j);
                }
            }

            if (useVectors)
            {
                for (; j + (8 * v) <= n; j += 8 * v)
                {
                    Tile1x8(ref ra1, lda1, k1, ref ra2, lda2, k2, ref rw, ldw, ref rb, ref rc, ldc, b, j, v);
                }

                for (; j + (2 * v) <= n; j += 2 * v)
                {
                    Tile1x2(ref ra1, lda1, k1, ref ra2, lda2, k2, ref rw, ldw, ref rb, ref rc, ldc, b, j, v);
                }

                for (; j + v <= n; j += v)
                {
                    Tile1x1(ref ra1, lda1, k1, ref ra2, lda2, k2, ref rw, ldw, ref rb, ref rc, ldc, b, j);
                }
            }

            for (; j < n; j++)
            {
                Scalar(ref ra1, lda1, k1, ref ra2, lda2, k2, ref rw, ldw, ref rb, ref rc, ldc, b, j);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector<T> Fma<T>(Vector<T> a, Vector<T> b, Vector<T> addend)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            return Vector.FusedMultiplyAdd(a.As<T, float>(), b.As<T, float>(), addend.As<T, float>()).As<float, T>();
        }

        if (typeof(T) == typeof(double))
        {
            return Vector.FusedMultiplyAdd(a.As<T, double>(), b.As<T, double>(), addend.As<T, double>()).As<double, T>();
        }

        throw new NotSupportedException($"Vector fused multiply-add is not available for {typeof(T).Name}.");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> Load<T>(ref T origin, int offset)
        where T : unmanaged, IFloatingPointIeee754<T>
        => Vector.LoadUnsafe(ref origin, (nuint)offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Fma<T>(Vector512<T> a, Vector512<T> b, Vector512<T> addend)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            return Vector512.FusedMultiplyAdd(a.As<T, float>(), b.As<T, float>(), addend.As<T, float>()).As<float, T>();
        }

        if (typeof(T) == typeof(double))
        {
            return Vector512.FusedMultiplyAdd(a.As<T, double>(), b.As<T, double>(), addend.As<T, double>()).As<double, T>();
        }

        throw new NotSupportedException($"Vector fused multiply-add is not available for {typeof(T).Name}.");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile4x4Wide<T>(
        ref T a1, int lda1, int k1, ref T a2, int lda2, int k2, ref T w, int ldw, ref T bias, ref T c, int ldc, int b, int j)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var v = Vector512<T>.Count;
        ref var bj = ref Unsafe.Add(ref bias, j);
        var bias0 = Vector512.LoadUnsafe(ref bj);
        var bias1 = Vector512.LoadUnsafe(ref bj, (nuint)v);
        var bias2 = Vector512.LoadUnsafe(ref bj, (nuint)(2 * v));
        var bias3 = Vector512.LoadUnsafe(ref bj, (nuint)(3 * v));
        Vector512<T> c00 = bias0, c01 = bias1, c02 = bias2, c03 = bias3;
        Vector512<T> c10 = bias0, c11 = bias1, c12 = bias2, c13 = bias3;
        Vector512<T> c20 = bias0, c21 = bias1, c22 = bias2, c23 = bias3;
        Vector512<T> c30 = bias0, c31 = bias1, c32 = bias2, c33 = bias3;
        for (var part = 0; part < 2; part++)
        {
            ref var a = ref part == 0 ? ref a1 : ref a2;
            var lda = part == 0 ? lda1 : lda2;
            var kCount = part == 0 ? k1 : k2;
            var kOffset = part == 0 ? 0 : k1;
            ref var x0 = ref Unsafe.Add(ref a, b * lda);
            ref var x1 = ref Unsafe.Add(ref x0, lda);
            ref var x2 = ref Unsafe.Add(ref x1, lda);
            ref var x3 = ref Unsafe.Add(ref x2, lda);
            for (var k = 0; k < kCount; k++)
            {
                ref var wr = ref Unsafe.Add(ref w, ((kOffset + k) * ldw) + j);
                var w0 = Vector512.LoadUnsafe(ref wr);
                var w1 = Vector512.LoadUnsafe(ref wr, (nuint)v);
                var w2 = Vector512.LoadUnsafe(ref wr, (nuint)(2 * v));
                var w3 = Vector512.LoadUnsafe(ref wr, (nuint)(3 * v));
                var s = Vector512.Create(Unsafe.Add(ref x0, k));
                c00 = Fma(s, w0, c00);
                c01 = Fma(s, w1, c01);
                c02 = Fma(s, w2, c02);
                c03 = Fma(s, w3, c03);
                s = Vector512.Create(Unsafe.Add(ref x1, k));
                c10 = Fma(s, w0, c10);
                c11 = Fma(s, w1, c11);
                c12 = Fma(s, w2, c12);
                c13 = Fma(s, w3, c13);
                s = Vector512.Create(Unsafe.Add(ref x2, k));
                c20 = Fma(s, w0, c20);
                c21 = Fma(s, w1, c21);
                c22 = Fma(s, w2, c22);
                c23 = Fma(s, w3, c23);
                s = Vector512.Create(Unsafe.Add(ref x3, k));
                c30 = Fma(s, w0, c30);
                c31 = Fma(s, w1, c31);
                c32 = Fma(s, w2, c32);
                c33 = Fma(s, w3, c33);
            }
        }

        ref var o = ref Unsafe.Add(ref c, (b * ldc) + j);
        Store4(ref o, v, c00, c01, c02, c03);
        o = ref Unsafe.Add(ref o, ldc);
        Store4(ref o, v, c10, c11, c12, c13);
        o = ref Unsafe.Add(ref o, ldc);
        Store4(ref o, v, c20, c21, c22, c23);
        o = ref Unsafe.Add(ref o, ldc);
        Store4(ref o, v, c30, c31, c32, c33);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x4Wide<T>(
        ref T a1, int lda1, int k1, ref T a2, int lda2, int k2, ref T w, int ldw, ref T bias, ref T c, int ldc, int b, int j)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var v = Vector512<T>.Count;
        ref var bj = ref Unsafe.Add(ref bias, j);
        var c0 = Vector512.LoadUnsafe(ref bj);
        var c1 = Vector512.LoadUnsafe(ref bj, (nuint)v);
        var c2 = Vector512.LoadUnsafe(ref bj, (nuint)(2 * v));
        var c3 = Vector512.LoadUnsafe(ref bj, (nuint)(3 * v));
        ref var x = ref Unsafe.Add(ref a1, b * lda1);
        for (var k = 0; k < k1; k++)
        {
            ref var wr = ref Unsafe.Add(ref w, (k * ldw) + j);
            var s = Vector512.Create(Unsafe.Add(ref x, k));
            c0 = Fma(s, Vector512.LoadUnsafe(ref wr), c0);
            c1 = Fma(s, Vector512.LoadUnsafe(ref wr, (nuint)v), c1);
            c2 = Fma(s, Vector512.LoadUnsafe(ref wr, (nuint)(2 * v)), c2);
            c3 = Fma(s, Vector512.LoadUnsafe(ref wr, (nuint)(3 * v)), c3);
        }

        ref var h = ref Unsafe.Add(ref a2, b * lda2);
        for (var k = 0; k < k2; k++)
        {
            ref var wr = ref Unsafe.Add(ref w, ((k1 + k) * ldw) + j);
            var s = Vector512.Create(Unsafe.Add(ref h, k));
            c0 = Fma(s, Vector512.LoadUnsafe(ref wr), c0);
            c1 = Fma(s, Vector512.LoadUnsafe(ref wr, (nuint)v), c1);
            c2 = Fma(s, Vector512.LoadUnsafe(ref wr, (nuint)(2 * v)), c2);
            c3 = Fma(s, Vector512.LoadUnsafe(ref wr, (nuint)(3 * v)), c3);
        }

        Store4(ref Unsafe.Add(ref c, (b * ldc) + j), v, c0, c1, c2, c3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4<T>(ref T destination, int v, Vector512<T> a, Vector512<T> b, Vector512<T> c, Vector512<T> d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        a.StoreUnsafe(ref destination);
        b.StoreUnsafe(ref destination, (nuint)v);
        c.StoreUnsafe(ref destination, (nuint)(2 * v));
        d.StoreUnsafe(ref destination, (nuint)(3 * v));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile4x2<T>(
        ref T a1, int lda1, int k1, ref T a2, int lda2, int k2, ref T w, int ldw, ref T bias, ref T c, int ldc, int b, int j, int v)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var bias0 = Load(ref bias, j);
        var bias1 = Load(ref bias, j + v);
        Vector<T> c00 = bias0, c01 = bias1, c10 = bias0, c11 = bias1, c20 = bias0, c21 = bias1, c30 = bias0, c31 = bias1;

        ref var x0 = ref Unsafe.Add(ref a1, b * lda1);
        ref var x1 = ref Unsafe.Add(ref x0, lda1);
        ref var x2 = ref Unsafe.Add(ref x1, lda1);
        ref var x3 = ref Unsafe.Add(ref x2, lda1);
        for (var k = 0; k < k1; k++)
        {
            var wr = k * ldw;
            var w0 = Load(ref w, wr + j);
            var w1 = Load(ref w, wr + j + v);
            var s = new Vector<T>(Unsafe.Add(ref x0, k));
            c00 = Fma(s, w0, c00);
            c01 = Fma(s, w1, c01);
            s = new Vector<T>(Unsafe.Add(ref x1, k));
            c10 = Fma(s, w0, c10);
            c11 = Fma(s, w1, c11);
            s = new Vector<T>(Unsafe.Add(ref x2, k));
            c20 = Fma(s, w0, c20);
            c21 = Fma(s, w1, c21);
            s = new Vector<T>(Unsafe.Add(ref x3, k));
            c30 = Fma(s, w0, c30);
            c31 = Fma(s, w1, c31);
        }

        ref var h0 = ref Unsafe.Add(ref a2, b * lda2);
        ref var h1 = ref Unsafe.Add(ref h0, lda2);
        ref var h2 = ref Unsafe.Add(ref h1, lda2);
        ref var h3 = ref Unsafe.Add(ref h2, lda2);
        for (var k = 0; k < k2; k++)
        {
            var wr = (k1 + k) * ldw;
            var w0 = Load(ref w, wr + j);
            var w1 = Load(ref w, wr + j + v);
            var s = new Vector<T>(Unsafe.Add(ref h0, k));
            c00 = Fma(s, w0, c00);
            c01 = Fma(s, w1, c01);
            s = new Vector<T>(Unsafe.Add(ref h1, k));
            c10 = Fma(s, w0, c10);
            c11 = Fma(s, w1, c11);
            s = new Vector<T>(Unsafe.Add(ref h2, k));
            c20 = Fma(s, w0, c20);
            c21 = Fma(s, w1, c21);
            s = new Vector<T>(Unsafe.Add(ref h3, k));
            c30 = Fma(s, w0, c30);
            c31 = Fma(s, w1, c31);
        }

        ref var o = ref Unsafe.Add(ref c, (b * ldc) + j);
        c00.StoreUnsafe(ref o);
        c01.StoreUnsafe(ref o, (nuint)v);
        o = ref Unsafe.Add(ref o, ldc);
        c10.StoreUnsafe(ref o);
        c11.StoreUnsafe(ref o, (nuint)v);
        o = ref Unsafe.Add(ref o, ldc);
        c20.StoreUnsafe(ref o);
        c21.StoreUnsafe(ref o, (nuint)v);
        o = ref Unsafe.Add(ref o, ldc);
        c30.StoreUnsafe(ref o);
        c31.StoreUnsafe(ref o, (nuint)v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x8<T>(
        ref T a1, int lda1, int k1, ref T a2, int lda2, int k2, ref T w, int ldw, ref T bias, ref T c, int ldc, int b, int j, int v)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c0 = Load(ref bias, j);
        var c1 = Load(ref bias, j + v);
        var c2 = Load(ref bias, j + (2 * v));
        var c3 = Load(ref bias, j + (3 * v));
        var c4 = Load(ref bias, j + (4 * v));
        var c5 = Load(ref bias, j + (5 * v));
        var c6 = Load(ref bias, j + (6 * v));
        var c7 = Load(ref bias, j + (7 * v));
        ref var x = ref Unsafe.Add(ref a1, b * lda1);
        for (var k = 0; k < k1; k++)
        {
            ref var wr = ref Unsafe.Add(ref w, (k * ldw) + j);
            var s = new Vector<T>(Unsafe.Add(ref x, k));
            c0 = Fma(s, Load(ref wr, 0), c0);
            c1 = Fma(s, Load(ref wr, v), c1);
            c2 = Fma(s, Load(ref wr, 2 * v), c2);
            c3 = Fma(s, Load(ref wr, 3 * v), c3);
            c4 = Fma(s, Load(ref wr, 4 * v), c4);
            c5 = Fma(s, Load(ref wr, 5 * v), c5);
            c6 = Fma(s, Load(ref wr, 6 * v), c6);
            c7 = Fma(s, Load(ref wr, 7 * v), c7);
        }

        ref var h = ref Unsafe.Add(ref a2, b * lda2);
        for (var k = 0; k < k2; k++)
        {
            ref var wr = ref Unsafe.Add(ref w, ((k1 + k) * ldw) + j);
            var s = new Vector<T>(Unsafe.Add(ref h, k));
            c0 = Fma(s, Load(ref wr, 0), c0);
            c1 = Fma(s, Load(ref wr, v), c1);
            c2 = Fma(s, Load(ref wr, 2 * v), c2);
            c3 = Fma(s, Load(ref wr, 3 * v), c3);
            c4 = Fma(s, Load(ref wr, 4 * v), c4);
            c5 = Fma(s, Load(ref wr, 5 * v), c5);
            c6 = Fma(s, Load(ref wr, 6 * v), c6);
            c7 = Fma(s, Load(ref wr, 7 * v), c7);
        }

        ref var o = ref Unsafe.Add(ref c, (b * ldc) + j);
        c0.StoreUnsafe(ref o);
        c1.StoreUnsafe(ref o, (nuint)v);
        c2.StoreUnsafe(ref o, (nuint)(2 * v));
        c3.StoreUnsafe(ref o, (nuint)(3 * v));
        c4.StoreUnsafe(ref o, (nuint)(4 * v));
        c5.StoreUnsafe(ref o, (nuint)(5 * v));
        c6.StoreUnsafe(ref o, (nuint)(6 * v));
        c7.StoreUnsafe(ref o, (nuint)(7 * v));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x2<T>(
        ref T a1, int lda1, int k1, ref T a2, int lda2, int k2, ref T w, int ldw, ref T bias, ref T c, int ldc, int b, int j, int v)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c0 = Load(ref bias, j);
        var c1 = Load(ref bias, j + v);
        ref var x = ref Unsafe.Add(ref a1, b * lda1);
        for (var k = 0; k < k1; k++)
        {
            ref var wr = ref Unsafe.Add(ref w, (k * ldw) + j);
            var s = new Vector<T>(Unsafe.Add(ref x, k));
            c0 = Fma(s, Load(ref wr, 0), c0);
            c1 = Fma(s, Load(ref wr, v), c1);
        }

        ref var h = ref Unsafe.Add(ref a2, b * lda2);
        for (var k = 0; k < k2; k++)
        {
            ref var wr = ref Unsafe.Add(ref w, ((k1 + k) * ldw) + j);
            var s = new Vector<T>(Unsafe.Add(ref h, k));
            c0 = Fma(s, Load(ref wr, 0), c0);
            c1 = Fma(s, Load(ref wr, v), c1);
        }

        ref var o = ref Unsafe.Add(ref c, (b * ldc) + j);
        c0.StoreUnsafe(ref o);
        c1.StoreUnsafe(ref o, (nuint)v);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile1x1<T>(
        ref T a1, int lda1, int k1, ref T a2, int lda2, int k2, ref T w, int ldw, ref T bias, ref T c, int ldc, int b, int j)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c0 = Load(ref bias, j);
        ref var x = ref Unsafe.Add(ref a1, b * lda1);
        for (var k = 0; k < k1; k++)
        {
            c0 = Fma(new Vector<T>(Unsafe.Add(ref x, k)), Load(ref w, (k * ldw) + j), c0);
        }

        ref var h = ref Unsafe.Add(ref a2, b * lda2);
        for (var k = 0; k < k2; k++)
        {
            c0 = Fma(new Vector<T>(Unsafe.Add(ref h, k)), Load(ref w, ((k1 + k) * ldw) + j), c0);
        }

        c0.StoreUnsafe(ref Unsafe.Add(ref c, (b * ldc) + j));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scalar<T>(
        ref T a1, int lda1, int k1, ref T a2, int lda2, int k2, ref T w, int ldw, ref T bias, ref T c, int ldc, int b, int j)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var acc = Unsafe.Add(ref bias, j);
        ref var x = ref Unsafe.Add(ref a1, b * lda1);
        for (var k = 0; k < k1; k++)
        {
            acc = T.FusedMultiplyAdd(Unsafe.Add(ref x, k), Unsafe.Add(ref w, (k * ldw) + j), acc);
        }

        ref var h = ref Unsafe.Add(ref a2, b * lda2);
        for (var k = 0; k < k2; k++)
        {
            acc = T.FusedMultiplyAdd(Unsafe.Add(ref h, k), Unsafe.Add(ref w, ((k1 + k) * ldw) + j), acc);
        }

        Unsafe.Add(ref c, (b * ldc) + j) = acc;
    }
}
