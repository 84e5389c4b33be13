namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>The mean of an observation given the state, y_t = h(x_t) (the noise is added separately).</summary>
/// <param name="state">x_t, n values. Do not keep the span.</param>
/// <param name="observation">Receives h(x_t), m values (all components, missing or not).</param>
/// <remarks>Called up to 2n+1 times per step; it must not allocate and must be safe to call from several threads.</remarks>
public delegate void ObservationFunction(ReadOnlySpan<double> state, Span<double> observation);
