namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>What a transition needs besides the state: the time gap, the step index and the control input.</summary>
/// <remarks>
/// <see cref="Step"/> is the index of the state being produced. Steps count observations from 1; when the prior
/// describes the state at the first observation (the default) the first transition produces step 2, and when the
/// model's prior is at time zero (<see cref="NonlinearGaussianModel.PriorAtTimeZero"/>) the first transition
/// produces step 1. Forecasts continue the count. Passed by value: it is three words and a span.
/// </remarks>
public readonly ref struct TransitionContext
{
    /// <summary>Creates a context.</summary>
    /// <param name="timeGap">Model time between the previous state and the new one.</param>
    /// <param name="step">Index of the new state (see the remarks).</param>
    /// <param name="control">Control input u_t; empty when the model takes none or none was given.</param>
    public TransitionContext(double timeGap, long step, ReadOnlySpan<double> control = default)
    {
        TimeGap = timeGap;
        Step = step;
        Control = control;
    }

    /// <summary>Model time Δt between the previous state and the new one.</summary>
    public double TimeGap { get; }

    /// <summary>Index of the new state, counting observations from 1 (0 is a time-zero prior).</summary>
    public long Step { get; }

    /// <summary>Control input u_t (may be empty; NaN components mean "not given").</summary>
    public ReadOnlySpan<double> Control { get; }
}
