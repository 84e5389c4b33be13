namespace StreamSeq.Estimation.Abstractions;

/// <summary>
/// The step contract every model family implements: an immutable, validated set of parameters shared by all
/// streams of a model, which advances a per-stream state buffer one observation at a time.
/// </summary>
/// <remarks>
/// <para>
/// A model is a hidden state h_t carried forward by a transition and an observation y_t explained by the state.
/// One <see cref="Step"/> answers three questions at once: the prediction p(h_t | y_{1:t-1}) and the predictive
/// distribution of y_t, the filtering distribution p(h_t | y_{1:t}), and the sequence density
/// log p(y_t | y_{1:t-1}). <see cref="Forecast"/> answers p(h_{t+k} | y_{1:t}). Smoothing p(h_{t-L} | y_{1:t})
/// is provided by <see cref="Smoothing.FixedLagSmoother"/> for every estimator that also implements
/// <see cref="IBackwardStep"/>.
/// </para>
/// <para>
/// The per-stream state is a flat buffer of <see cref="EstimatorInfo.StateLength"/> doubles owned by the caller
/// (the state store). Its layout is private to the estimator; because it is plain data it serialises bit for bit,
/// so a restored stream continues identically. Integer words (random-generator state, indices) are stored in the
/// buffer by reinterpreting bits and never pass through floating-point arithmetic.
/// </para>
/// <para>Implementations must not allocate per step in steady state and must be safe to call from several
/// threads at once for different state buffers.</para>
/// <para>
/// Every span must have exactly the length <see cref="Info"/> gives (state <see cref="EstimatorInfo.StateLength"/>,
/// observation values <see cref="EstimatorInfo.ObservationDimension"/>, control empty or
/// <see cref="EstimatorInfo.ControlDimension"/>, backward record empty or <see cref="EstimatorInfo.BackwardRecordLength"/>,
/// mean n and covariance n×n), and an <see cref="Estimate"/> or <see cref="Abstractions.Forecast"/> must be allocated
/// for a model of the same dimensions. The built-in families check this once per call and throw an
/// <see cref="ArgumentException"/> naming the parameter, before touching the state.
/// </para>
/// </remarks>
public interface IEstimator
{
    /// <summary>Dimensions, buffer lengths and the names of family-specific outputs.</summary>
    EstimatorInfo Info { get; }

    /// <summary>Writes the initial state (the prior of the first hidden state) into a fresh buffer.</summary>
    /// <param name="state">The stream's state buffer, <see cref="EstimatorInfo.StateLength"/> long.</param>
    /// <param name="seed">A per-stream seed for estimators that draw random numbers; others ignore it.</param>
    void Initialize(Span<double> state, ulong seed);

    /// <summary>
    /// Advances the state across <see cref="Observation.TimeGap"/> (no prediction before the first observation,
    /// where the prior applies directly) and assimilates the observation.
    /// </summary>
    /// <param name="state">The stream's state, updated in place.</param>
    /// <param name="observation">The observation; NaN components are missing.</param>
    /// <param name="estimate">Receives the predicted, observation and filtered moments and the innovation statistics.</param>
    /// <param name="backwardRecord">
    /// When not empty (<see cref="EstimatorInfo.BackwardRecordLength"/> long), receives what the backward step needs
    /// to smooth this step later. Estimators without a backward step ignore it.
    /// </param>
    void Step(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord);

    /// <summary>
    /// Forecasts horizons 1..<see cref="Forecast.MaxHorizon"/> from the current filtered state without changing it.
    /// </summary>
    /// <param name="state">The stream's state after its latest step.</param>
    /// <param name="stepGap">Time between forecast horizons in model time units (discrete-time models ignore it).</param>
    /// <param name="forecast">Receives the state and observation moments per horizon.</param>
    void Forecast(ReadOnlySpan<double> state, double stepGap, Forecast forecast);

    /// <summary>Writes the current filtered mean and covariance of the state (for inspection and queries).</summary>
    void ReadState(ReadOnlySpan<double> state, Span<double> mean, Span<double> covariance);
}
