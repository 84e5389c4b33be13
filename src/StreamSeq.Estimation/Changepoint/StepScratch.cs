namespace StreamSeq.Estimation.Changepoint;

/// <summary>
/// A per-thread work buffer for the detector's step. Unlike the shared scratch arena it is not cleared on each use:
/// the step writes every element it reads, and clearing tens of kilobytes per step would cost more than the maths.
/// </summary>
internal static class StepScratch
{
    [ThreadStatic]
    private static double[]? buffer;

    /// <summary>The calling thread's buffer, grown to at least <paramref name="length"/> doubles.</summary>
    public static Span<double> Get(int length)
    {
        var b = buffer;
        if (b is null || b.Length < length)
        {
            buffer = b = new double[length];
        }

        return b.AsSpan(0, length);
    }
}
