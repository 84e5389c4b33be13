namespace StreamSeq.Estimation.Gaussian;

/// <summary>
/// The state transition of a linear Gaussian model over a time gap:
/// h_t = F(Δt) h_{t-1} + c(Δt) + B u_t + w_t with w_t ~ N(0, Q(Δt)).
/// </summary>
public interface ILinearDynamics
{
    /// <summary>State dimension n.</summary>
    int StateDimension { get; }

    /// <summary>True when F, Q and c do not depend on the time gap (discrete-time models).</summary>
    bool IsTimeInvariant { get; }

    /// <summary>Writes F (n×n), Q (n×n) and c (n) for a gap of <paramref name="timeGap"/> model time units.</summary>
    /// <remarks>Every element is written (zeros included), and the result is a pure function of the gap: filters may
    /// reuse the matrices of a previous call with the same gap.</remarks>
    void Discretize(double timeGap, Span<double> transition, Span<double> transitionNoise, Span<double> transitionOffset);
}
