using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// Element-wise gate arithmetic for short vectors (one stream's hidden units). Each element is computed by the same
/// sequence of operations in the vector body and in the scalar tail, so results do not depend on the position of an
/// element within a vector.
/// </summary>
internal static class CellMath
{
    /// <summary>c ← f⊙c + i⊙g (fused: fma(f, c, i·g)); copy ← c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void LstmCell<T>(ReadOnlySpan<T> i, ReadOnlySpan<T> f, ReadOnlySpan<T> g, Span<T> c, Span<T> copy)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var n = c.Length;
        Debug.Assert(i.Length >= n && f.Length >= n && g.Length >= n && copy.Length >= n);
        ref var ri = ref MemoryMarshal.GetReference(i);
        ref var rf = ref MemoryMarshal.GetReference(f);
        ref var rg = ref MemoryMarshal.GetReference(g);
        ref var rc = ref MemoryMarshal.GetReference(c);
        ref var ro = ref MemoryMarshal.GetReference(copy);
        var k = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            for (; k + Vector<T>.Count <= n; k += Vector<T>.Count)
            {
                var u = (nuint)k;
                var value = GemmKernel.Fma(
                    Vector.LoadUnsafe(ref rf, u),
                    Vector.LoadUnsafe(ref rc, u),
                    Vector.LoadUnsafe(ref ri, u) * Vector.LoadUnsafe(ref rg, u));
                value.StoreUnsafe(ref rc, u);
                value.StoreUnsafe(ref ro, u);
            }
        }

        for (; k < n; k++)
        {
            var value = T.FusedMultiplyAdd(Unsafe.Add(ref rf, k), Unsafe.Add(ref rc, k), Unsafe.Add(ref ri, k) * Unsafe.Add(ref rg, k));
            Unsafe.Add(ref rc, k) = value;
            Unsafe.Add(ref ro, k) = value;
        }
    }

    /// <summary>destination ← a⊙b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Multiply<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var n = destination.Length;
        Debug.Assert(a.Length >= n && b.Length >= n);
        ref var ra = ref MemoryMarshal.GetReference(a);
        ref var rb = ref MemoryMarshal.GetReference(b);
        ref var rd = ref MemoryMarshal.GetReference(destination);
        var k = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            for (; k + Vector<T>.Count <= n; k += Vector<T>.Count)
            {
                var u = (nuint)k;
                (Vector.LoadUnsafe(ref ra, u) * Vector.LoadUnsafe(ref rb, u)).StoreUnsafe(ref rd, u);
            }
        }

        for (; k < n; k++)
        {
            Unsafe.Add(ref rd, k) = Unsafe.Add(ref ra, k) * Unsafe.Add(ref rb, k);
        }
    }

    /// <summary>accumulator ← fma(a, b, accumulator), i.e. accumulator + a⊙b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void MultiplyAdd<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> accumulator)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var n = accumulator.Length;
        Debug.Assert(a.Length >= n && b.Length >= n);
        ref var ra = ref MemoryMarshal.GetReference(a);
        ref var rb = ref MemoryMarshal.GetReference(b);
        ref var rd = ref MemoryMarshal.GetReference(accumulator);
        var k = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            for (; k + Vector<T>.Count <= n; k += Vector<T>.Count)
            {
                var u = (nuint)k;
                GemmKernel.Fma(Vector.LoadUnsafe(ref ra, u), Vector.LoadUnsafe(ref rb, u), Vector.LoadUnsafe(ref rd, u)).StoreUnsafe(ref rd, u);
            }
        }

        for (; k < n; k++)
        {
            Unsafe.Add(ref rd, k) = T.FusedMultiplyAdd(Unsafe.Add(ref ra, k), Unsafe.Add(ref rb, k), Unsafe.Add(ref rd, k));
        }
    }

    /// <summary>h ← n + z⊙(h − n) (fused), which is (1 − z)⊙n + z⊙h.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GruBlend<T>(ReadOnlySpan<T> z, ReadOnlySpan<T> candidate, Span<T> h)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var n = h.Length;
        Debug.Assert(z.Length >= n && candidate.Length >= n);
        ref var rz = ref MemoryMarshal.GetReference(z);
        ref var rn = ref MemoryMarshal.GetReference(candidate);
        ref var rh = ref MemoryMarshal.GetReference(h);
        var k = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            for (; k + Vector<T>.Count <= n; k += Vector<T>.Count)
            {
                var u = (nuint)k;
                var nv = Vector.LoadUnsafe(ref rn, u);
                GemmKernel.Fma(Vector.LoadUnsafe(ref rz, u), Vector.LoadUnsafe(ref rh, u) - nv, nv).StoreUnsafe(ref rh, u);
            }
        }

        for (; k < n; k++)
        {
            var nv = Unsafe.Add(ref rn, k);
            Unsafe.Add(ref rh, k) = T.FusedMultiplyAdd(Unsafe.Add(ref rz, k), Unsafe.Add(ref rh, k) - nv, nv);
        }
    }
}
