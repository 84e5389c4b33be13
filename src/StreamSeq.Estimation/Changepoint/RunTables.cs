using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace StreamSeq.Estimation.Changepoint;

/// <summary>
/// Helpers for the segment engines' tables indexed by the observed count n: when the counts of consecutive
/// hypotheses are consecutive integers (the steady state of a stream without gaps or pruning), a table lookup per
/// hypothesis becomes one contiguous slice of the table, and the per-hypothesis loops become plain vector arithmetic.
/// </summary>
internal static class RunTables
{
    /// <summary>
    /// The first count when counts[j] = counts[0] + j for every j and the slice [counts[0], counts[0] + count) lies
    /// inside a table of <paramref name="tableLength"/> entries; otherwise −1.
    /// </summary>
    public static int ContiguousStart(ReadOnlySpan<double> counts, int tableLength)
    {
        if (counts.IsEmpty)
        {
            return -1;
        }

        var first = counts[0];
        if (!(first >= 0.0) || first + counts.Length > tableLength)
        {
            return -1;
        }

        ref var c = ref MemoryMarshal.GetReference(counts);
        var j = 0;
        if (Vector256.IsHardwareAccelerated && counts.Length >= Vector256<double>.Count)
        {
            var expected = Vector256.Create(first) + Vector256.Create(0.0, 1.0, 2.0, 3.0);
            var four = Vector256.Create(4.0);
            var mismatch = Vector256<double>.Zero;
            for (; j <= counts.Length - 4; j += 4)
            {
                mismatch |= ~Vector256.Equals(Vector256.LoadUnsafe(ref c, (nuint)j), expected);
                expected += four;
            }

            if (mismatch.AsUInt64() != Vector256<ulong>.Zero)
            {
                return -1;
            }
        }

        for (; j < counts.Length; j++)
        {
            if (Unsafe.Add(ref c, j) != first + j)
            {
                return -1;
            }
        }

        return (int)first;
    }
}
