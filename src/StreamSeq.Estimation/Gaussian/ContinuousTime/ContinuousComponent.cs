namespace StreamSeq.Estimation.Gaussian.ContinuousTime;

/// <summary>
/// One block of a continuous-time structural model, discretised exactly by the gap between observations.
/// Sums of components are block-diagonal in the state and add up in the observation
/// (see <see cref="ContinuousTimeDynamics"/>).
/// </summary>
public abstract class ContinuousComponent
{
    /// <summary>Short name used in state labels, for example <c>level</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Number of states in this block.</summary>
    public abstract int StateDimension { get; }

    /// <summary>Number of observed components this block contributes to.</summary>
    public abstract int ObservationDimension { get; }

    /// <summary>Writes F (n×n), Q (n×n) and c (n) of this block for a gap Δt.</summary>
    public abstract void Discretize(double timeGap, Span<double> transition, Span<double> noise, Span<double> offset);

    /// <summary>Writes this block's columns of the observation matrix (m × n, row-major).</summary>
    public abstract void WriteObservation(Span<double> observation);

    /// <summary>Writes the default prior: mean (n), proper covariance part (n×n) and diffuse part (n×n).</summary>
    /// <remarks>The default is exact diffuse for non-stationary states and the stationary law otherwise.</remarks>
    public virtual void WriteInitial(Span<double> mean, Span<double> covariance, Span<double> diffuse)
    {
        mean.Clear();
        covariance.Clear();
        var n = StateDimension;
        for (var i = 0; i < n; i++)
        {
            diffuse[(i * n) + i] = 1.0;
        }
    }

    /// <summary>Writes two 2×2 blocks F and Q of a white-noise-driven integrator pair (position, rate).</summary>
    internal static (double F01, double Q00, double Q01, double Q11) IntegratedPair(double dt, double q) =>
        (dt, q * dt * dt * dt / 3.0, q * dt * dt / 2.0, q * dt);
}
