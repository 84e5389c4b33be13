namespace StreamSeq.Estimation.Abstractions;

/// <summary>One observation handed to <see cref="IEstimator.Step"/>.</summary>
/// <remarks>Missing components are NaN; a wholly missing observation only predicts.</remarks>
public readonly ref struct Observation
{
    /// <summary>Creates an observation.</summary>
    /// <param name="values">Observed components y_t (NaN = missing).</param>
    /// <param name="timeGap">Model time elapsed since the previous observation of the stream.</param>
    /// <param name="time">The record's time as the caller represents it; carried to smoothed outputs.</param>
    /// <param name="control">Control input u_t, empty when the model takes none.</param>
    public Observation(ReadOnlySpan<double> values, double timeGap = 1.0, double time = double.NaN, ReadOnlySpan<double> control = default)
    {
        Values = values;
        TimeGap = timeGap;
        Time = time;
        Control = control;
    }

    /// <summary>Observed components y_t; NaN marks a missing component.</summary>
    public ReadOnlySpan<double> Values { get; }

    /// <summary>Model time since the previous observation (ignored at the first step and by discrete-time models).</summary>
    public double TimeGap { get; }

    /// <summary>The record time, opaque to estimators; the fixed-lag smoother reports it with the smoothed step.</summary>
    public double Time { get; }

    /// <summary>Control input u_t.</summary>
    public ReadOnlySpan<double> Control { get; }
}
