namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>The transition noise covariance Q(Δt) for a time gap.</summary>
/// <param name="timeGap">Model time between the two states.</param>
/// <param name="covariance">Receives Q, n×n row-major, symmetric positive semi-definite. Cleared before the call.</param>
public delegate void TransitionNoiseFunction(double timeGap, Span<double> covariance);
