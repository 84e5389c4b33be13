namespace StreamSeq.Estimation.Gaussian.Adaptive;

/// <summary>
/// One thread's copy of the last discretisation an adaptive filter computed: F, c and Q_fixed of the model with its
/// learned rates at zero, and each rate's B_j, for one filter and one time gap.
/// </summary>
/// <remarks>Filters are shared by every stream of a model and may be stepped from several threads, so the copy is per
/// thread and reused only when both the filter and the gap match (regular sampling discretises once). Its arrays
/// grow to the largest model seen on the thread and are never shrunk, so switching between models allocates
/// nothing after the first use.</remarks>
internal sealed class GapDiscretization
{
    [ThreadStatic]
    private static GapDiscretization? current;

    private double[] values = new double[64];

    /// <summary>The calling thread's copy.</summary>
    public static GapDiscretization ForThread => current ??= new GapDiscretization();

    /// <summary>The filter the copy belongs to (null before first use).</summary>
    public object? Owner { get; private set; }

    /// <summary>The gap it was computed for.</summary>
    public double Gap { get; private set; } = double.NaN;

    /// <summary>F, Q_fixed, c, then B_1 … B_r (each n×n), contiguous.</summary>
    public Span<double> Values(int length) => values.AsSpan(0, length);

    /// <summary>Claims the copy for <paramref name="owner"/> and <paramref name="gap"/>, growing it to
    /// <paramref name="length"/> doubles; the caller then fills <see cref="Values"/>.</summary>
    public void Claim(object owner, double gap, int length)
    {
        if (values.Length < length)
        {
            values = new double[Math.Max(length, 2 * values.Length)];
        }

        Owner = owner;
        Gap = gap;
    }

    /// <summary>True when the copy holds <paramref name="owner"/>'s matrices for <paramref name="gap"/>.</summary>
    public bool Holds(object owner, double gap) => ReferenceEquals(Owner, owner) && Gap.Equals(gap);
}
