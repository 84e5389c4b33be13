namespace StreamSeq.Estimation.Gaussian;

/// <summary>
/// One thread's copy of the last discretisation a small-model Kalman kernel computed: F, F' and the symmetric part of
/// Q padded to 4×4, and c padded to 4, for one filter and one time gap.
/// </summary>
/// <remarks>Filters are shared by every stream of a model and may be stepped from several threads, so the copy is per
/// thread; it is only reused when both the filter and the gap match, and is overwritten otherwise (no allocation after
/// the first use on a thread).</remarks>
internal sealed class PaddedDiscretization
{
    [ThreadStatic]
    private static PaddedDiscretization? current;

    /// <summary>The calling thread's copy.</summary>
    public static PaddedDiscretization ForThread => current ??= new PaddedDiscretization();

    /// <summary>The filter the copy belongs to (null before first use).</summary>
    public object? Owner { get; set; }

    /// <summary>The gap it was computed for.</summary>
    public double Gap { get; set; } = double.NaN;

    /// <summary>F, row-major 4×4.</summary>
    public double[] Transition { get; } = new double[16];

    /// <summary>F', row-major 4×4.</summary>
    public double[] TransitionTransposed { get; } = new double[16];

    /// <summary>(Q + Q') / 2, row-major 4×4.</summary>
    public double[] Noise { get; } = new double[16];

    /// <summary>c, padded to 4.</summary>
    public double[] Offset { get; } = new double[4];
}
