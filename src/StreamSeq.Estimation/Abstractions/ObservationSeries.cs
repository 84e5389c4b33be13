namespace StreamSeq.Estimation.Abstractions;

/// <summary>A finished series of observations for batch work (fitting, fixed-interval smoothing, tests).</summary>
/// <remarks>Values are row-major, one row of <see cref="Dimension"/> per step; NaN marks a missing component.
/// <see cref="TimeGaps"/> (optional) holds the gap before each step (the first is ignored).</remarks>
public sealed class ObservationSeries
{
    /// <summary>Creates a series.</summary>
    public ObservationSeries(int dimension, double[] values, double[]? timeGaps = null, double[]? controls = null, int controlDimension = 0)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (values.Length % dimension != 0)
        {
            throw new ArgumentException($"values has {values.Length} numbers, not a multiple of the dimension {dimension}.", nameof(values));
        }

        Dimension = dimension;
        Values = values;
        Length = values.Length / dimension;
        if (timeGaps is not null && timeGaps.Length != Length)
        {
            throw new ArgumentException($"timeGaps has {timeGaps.Length} entries for {Length} steps.", nameof(timeGaps));
        }

        TimeGaps = timeGaps;
        Controls = controls;
        ControlDimension = controlDimension;
    }

    /// <summary>Observation dimension m.</summary>
    public int Dimension { get; }

    /// <summary>Number of steps T.</summary>
    public int Length { get; }

    /// <summary>T×m values.</summary>
    public double[] Values { get; }

    /// <summary>Gap before each step, or null for unit gaps.</summary>
    public double[]? TimeGaps { get; }

    /// <summary>T×u control inputs, or null.</summary>
    public double[]? Controls { get; }

    /// <summary>Control dimension u.</summary>
    public int ControlDimension { get; }

    /// <summary>The observation at step t (0-based).</summary>
    public Observation At(int t) => new(
        Values.AsSpan(t * Dimension, Dimension),
        TimeGaps is null ? 1.0 : TimeGaps[t],
        t,
        Controls is null ? default : Controls.AsSpan(t * ControlDimension, ControlDimension));
}
