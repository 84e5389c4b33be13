namespace StreamSeq.Estimation.Particles;

/// <summary>
/// An optional capability of an <see cref="IStateSpaceModel"/>: evaluating its transition density
/// f(h_t | h_{t−1}; Δt, t) in closed form, which lets the particle filter smooth a whole series by marginal
/// forward-filtering backward-smoothing (FFBSm) instead of tracing ancestors.
/// </summary>
/// <remarks>
/// <para>The density must be that of <see cref="IStateSpaceModel.SampleTransition"/> exactly (same step index and gap
/// conventions). Particles use the structure-of-arrays layout of <see cref="IStateSpaceModel"/>. Implementations must
/// be immutable, thread-safe and allocation-free (scratch from the arena).</para>
/// <para>A transition whose noise covariance is singular (some component moves deterministically) has no density
/// with respect to Lebesgue measure; the model then answers false from <see cref="HasTransitionDensity"/> and the
/// filter traces ancestors across that step.</para>
/// </remarks>
public interface ITransitionDensity
{
    /// <summary>True when the transition into step <paramref name="step"/> over gap <paramref name="timeGap"/> has a
    /// density (its noise covariance is positive definite).</summary>
    bool HasTransitionDensity(double timeGap, long step);

    /// <summary>
    /// Writes log f(next_j | previous_i; Δt, t) to <c>logDensity[j * previousCount + i]</c> for every previous particle i
    /// and next particle j: all pairs when <paramref name="nextCount"/> is the population, or one next particle
    /// against all previous ones when it is 1. Only called when <see cref="HasTransitionDensity"/> is true.
    /// </summary>
    /// <param name="previous">Particles h_{t−1}, <paramref name="previousCount"/> per state component.</param>
    /// <param name="previousCount">Number of previous particles.</param>
    /// <param name="next">Particles h_t, <paramref name="nextCount"/> per state component.</param>
    /// <param name="nextCount">Number of next particles.</param>
    /// <param name="timeGap">Model time between the two steps.</param>
    /// <param name="step">1-based index t of the next state.</param>
    /// <param name="logDensity">Receives <paramref name="nextCount"/> rows of <paramref name="previousCount"/> values.</param>
    void TransitionLogDensity(ReadOnlySpan<double> previous, int previousCount, ReadOnlySpan<double> next, int nextCount, double timeGap, long step, Span<double> logDensity);
}
