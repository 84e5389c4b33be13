using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>
/// One step of an extended or unscented filter on the state layout of <see cref="NonlinearState"/>, without the restart
/// that <see cref="NonlinearState.StepRestarting"/> adds around it.
/// </summary>
internal interface INonlinearStep
{
    /// <summary>Predicts and updates once with observation noise <paramref name="r"/>; a non-finite result resets the state to the prior.</summary>
    void StepOnce(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord, ReadOnlySpan<double> r);
}
