using System.Runtime.CompilerServices;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Particles;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// A recurrent network as a state-space model with deterministic transitions: one more estimator on the step
/// contract, with per-stream hidden state, the predictive distribution of the next observation, its log-likelihood
/// and NIS, forecasts, and the same output records as the Kalman filter.
/// </summary>
/// <remarks>
/// <para><b>Model.</b> h_t = cell(h_{t-1}, x_t) with x_t = [y_{t-1}, u_t] normalised as <see cref="RecurrentLayout"/>
/// describes (h_0 = <see cref="RecurrentLayout.InitialState"/>, zeros by default as in PyTorch, and
/// y_0 = <see cref="RecurrentLayout.InitialObservation"/>, or each stream's first reading with
/// <see cref="RecurrentLayout.InitialObservationFromFirstReading"/>), and y_t | h_t ~ N(ŷ_t, Σ_t) from
/// the head on the top hidden vector. The state is a point, so the predicted and the filtered state are both h_t
/// (it is computed before y_t is seen and y_t enters only at the next step);
/// <see cref="EstimatorInfo.HasStateCovariance"/> is false and covariances are written as zeros.
/// <see cref="Estimate.LogLikelihood"/> is log N(y_o; ŷ_o, Σ_oo) over the observed components o (the
/// maximum-likelihood loss of training), and NIS is v' Σ_oo⁻¹ v.</para>
/// <para><b>Missing data.</b> A missing component of y_t is replaced, as the next input, by the model's own
/// predicted mean for it; a wholly missing observation only predicts (log-likelihood NaN).</para>
/// <para><b>Forecasts.</b> Horizon k feeds back the predicted mean of horizon k−1 (future controls are unknown and
/// enter as missing), and reports the head's Σ at each horizon, which ignores the uncertainty of the fed-back
/// inputs. With <see cref="ForecastSamples"/> = N &gt; 0 it instead runs N trajectories that feed back samples
/// y ~ N(ŷ, Σ), and reports the mixture moments (mean of ŷ; mean of Σ plus the spread of ŷ) and the sample moments
/// of the state. The random numbers come from a generator derived from the stream seed and the step count, so a
/// forecast is reproducible and never advances the stream.</para>
/// <para><b>Smoothing.</b> The state at t−L is a function of y_{1:t-L-1} alone, so later data cannot change it:
/// the backward step returns the filtered state (exact), which lets the fixed-lag and fixed-interval smoothers emit
/// the same record kinds as for the Kalman filter. A reset step (below) begins a new stretch: its record is the
/// fresh state every later step descends from, so it gets its smoothed record as a stream's first step does.</para>
/// <para><b>Guard rails.</b> When the new state or the head output is not finite (an exploding net or an extreme
/// input), the stream restarts from its initial state (h_0, default zero) with input y_0, the step reports that fresh prediction with
/// log-likelihood NaN and <see cref="EstimateFlags.Reinitialized"/>, and the per-stream <c>resets</c> count (an
/// extra) increases. Non-finite values are never emitted.</para>
/// <para><b>State buffer.</b> [steps, resets, seed, y_{t-1} (m), network storage]; integers by bit
/// reinterpretation, so a copied buffer continues bit for bit.</para>
/// </remarks>
public sealed class RecurrentEstimator : IEstimator, IBackwardStep, IRestartRecords
{
    private const int StepsSlot = 0;
    private const int ResetsSlot = 1;
    private const int SeedSlot = 2;
    private const int PreviousSlot = 3;
    private const int StackLimit = 2048;

    private readonly IRecurrentBackend backend;
    private readonly RecurrentLayout layout;
    private readonly int m;
    private readonly int n;
    private readonly int storageSlot;
    private readonly int viewOffset;

    /// <summary>Creates the estimator.</summary>
    /// <param name="backend">The network and head.</param>
    /// <param name="layout">Input and head interpretation; its sizes must match the backend.</param>
    /// <param name="stateView">The part of the network state reported as the state.</param>
    /// <param name="forecastSamples">Monte-Carlo trajectories per forecast (0: feed back the mean).</param>
    /// <param name="family">Family name in output records (default: the backend's name).</param>
    public RecurrentEstimator(IRecurrentBackend backend, RecurrentLayout layout, RecurrentStateView stateView = RecurrentStateView.Full, int forecastSamples = 0, string? family = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(layout);
        if (backend.InputSize != layout.InputSize)
        {
            throw new ModelValidationException("inputSize", $"the network reads {backend.InputSize} inputs but the observation ({layout.ObservationDimension}) and control ({layout.ControlDimension}) make {layout.InputSize}.");
        }

        if (backend.OutputSize != layout.HeadOutputSize)
        {
            throw new ModelValidationException("head", $"the network's head emits {backend.OutputSize} values but a {Describe(layout)} head over {layout.ObservationDimension} observed components needs {layout.HeadOutputSize}.");
        }

        if (forecastSamples < 0)
        {
            throw new ModelValidationException("forecastSamples", $"must be 0 (feed back the mean) or positive, got {forecastSamples}.");
        }

        if (!Enum.IsDefined(stateView))
        {
            throw new ModelValidationException("state", $"unknown state view {stateView}.");
        }

        this.backend = backend;
        this.layout = layout;
        m = layout.ObservationDimension;
        StateView = stateView;
        ForecastSamples = forecastSamples;
        n = stateView == RecurrentStateView.Full ? backend.StateSize : backend.OutputHiddenSize;
        viewOffset = stateView == RecurrentStateView.Full ? 0 : backend.OutputHiddenOffset;
        storageSlot = PreviousSlot + m;
        Info = new EstimatorInfo
        {
            Family = family ?? backend.Name,
            StateDimension = n,
            ObservationDimension = m,
            ControlDimension = layout.ControlDimension,
            StateLength = storageSlot + backend.StorageLength,
            BackwardRecordLength = n,
            SmoothingMessageLength = n,
            HasStateCovariance = false,
            Extras = [new ExtraField("resets", 1, IsInteger: true)],
        };
    }

    /// <summary>The network and head.</summary>
    public IRecurrentBackend Backend => backend;

    /// <summary>How observations enter and predictions leave the network.</summary>
    public RecurrentLayout Layout => layout;

    /// <summary>The reported part of the network state.</summary>
    public RecurrentStateView StateView { get; }

    /// <summary>Monte-Carlo trajectories per forecast (0: mean feedback).</summary>
    public int ForecastSamples { get; }

    /// <inheritdoc />
    public EstimatorInfo Info { get; }

    /// <summary>
    /// Always true: a reset step's record is the net's fresh state (from h_0 with the initial input, or the cleared
    /// storage when that fails too), from which every later step descends; its smoothed state is that filtered state.
    /// </summary>
    bool IRestartRecords.BeginsStretch(ReadOnlySpan<double> state) => true;

    /// <inheritdoc />
    public void Initialize(Span<double> state, ulong seed)
    {
        SpanChecks.State(state, Info);
        state.Clear();
        state[SeedSlot] = BitConverter.Int64BitsToDouble((long)seed);
        layout.InitialObservation.CopyTo(state.Slice(PreviousSlot, m));
        layout.WriteInitialState(backend, state.Slice(storageSlot, backend.StorageLength));
    }

    /// <inheritdoc />
    [SkipLocalsInit]
    public void Step(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord)
    {
        SpanChecks.Step(state, observation, estimate, backwardRecord, Info);
        estimate.Reset();
        var s = backend.StateSize;
        Span<double> input = stackalloc double[layout.InputSize];
        Span<double> raw = stackalloc double[backend.OutputSize];
        Span<double> mean = stackalloc double[m];
        Span<double> factor = stackalloc double[m * m];
        var full = s <= StackLimit ? stackalloc double[s] : new double[s];
        var previous = state.Slice(PreviousSlot, m);
        var storage = state.Slice(storageSlot, backend.StorageLength);
        if (layout.InitialObservationFromFirstReading && Count(state, StepsSlot) == 0)
        {
            ConditionOnFirstReading(state, observation.Values, estimate, backwardRecord);
            return;
        }

        layout.BuildInput(previous, observation.Control, input);
        backend.Step(input, storage, raw);
        backend.ReadState(storage, full);
        var ok = AllFinite(full) && layout.Moments(raw, mean, factor);
        if (!ok)
        {
            // Restart the stream from its initial state and the initial input, and report that prediction.
            estimate.Flags |= EstimateFlags.Reinitialized;
            SetCount(state, ResetsSlot, Count(state, ResetsSlot) + 1);
            layout.WriteInitialState(backend, storage);
            layout.BuildInput(layout.InitialObservation, observation.Control, input);
            backend.Step(input, storage, raw);
            backend.ReadState(storage, full);
            if (!AllFinite(full) || !layout.Moments(raw, mean, factor))
            {
                storage.Clear();
                full.Clear();
                Neutral(mean, factor);
            }
        }

        layout.Covariance(factor, estimate.ObservationCovariance);
        mean.CopyTo(estimate.ObservationMean);
        var view = full.Slice(viewOffset, n);
        view.CopyTo(estimate.PredictedMean);
        view.CopyTo(estimate.StateMean);
        estimate.PredictedCovariance.AsSpan().Clear();
        estimate.StateCovariance.AsSpan().Clear();
        var values = observation.Values;
        if (ok)
        {
            estimate.LogLikelihood = layout.LogDensity(mean, factor, values, out var nis, out var observed);
            estimate.NormalizedInnovationSquared = nis;
            estimate.ObservedCount = observed;
        }

        for (var j = 0; j < m; j++)
        {
            previous[j] = j < values.Length && double.IsFinite(values[j]) ? values[j] : mean[j];
        }

        SetCount(state, StepsSlot, Count(state, StepsSlot) + 1);
        estimate.Extras[0] = Count(state, ResetsSlot);
        if (!backwardRecord.IsEmpty)
        {
            view.CopyTo(backwardRecord);
        }
    }

    /// <inheritdoc />
    [SkipLocalsInit]
    public void Forecast(ReadOnlySpan<double> state, double stepGap, Forecast forecast)
    {
        SpanChecks.Forecast(state, forecast, Info);
        var s = backend.StateSize;
        var storageLength = backend.StorageLength;
        Span<double> input = stackalloc double[layout.InputSize];
        Span<double> raw = stackalloc double[backend.OutputSize];
        Span<double> mean = stackalloc double[m];
        Span<double> factor = stackalloc double[m * m];
        Span<double> previous = stackalloc double[m];
        Span<double> draw = stackalloc double[m];
        var full = s <= StackLimit ? stackalloc double[s] : new double[s];
        var storage = storageLength <= StackLimit ? stackalloc double[storageLength] : new double[storageLength];
        var horizons = forecast.MaxHorizon;
        forecast.StateCovariance.AsSpan().Clear();
        if (ForecastSamples == 0)
        {
            state.Slice(storageSlot, storageLength).CopyTo(storage);
            state.Slice(PreviousSlot, m).CopyTo(previous);
            for (var k = 1; k <= horizons; k++)
            {
                layout.BuildInput(previous, default, input);
                backend.Step(input, storage, raw);
                backend.ReadState(storage, full);
                if (!layout.Moments(raw, mean, factor))
                {
                    Neutral(mean, factor);
                }

                full.Slice(viewOffset, n).CopyTo(forecast.StateMeanAt(k));
                mean.CopyTo(forecast.ObservationMeanAt(k));
                layout.Covariance(factor, forecast.ObservationCovarianceAt(k));
                mean.CopyTo(previous);
            }

            return;
        }

        // Monte-Carlo trajectories: per horizon a running mean and sum of centred products (Welford), then normalise.
        // Raw sums of squares would lose every digit for readings far from 0 next to their spread (about 1e8 with a
        // spread of 1: squares near 1e16, whose spacing is 2).
        forecast.StateMean.AsSpan().Clear();
        forecast.ObservationMean.AsSpan().Clear();
        forecast.ObservationCovariance.AsSpan().Clear();
        Span<double> sigma = stackalloc double[m * m];
        var width = Math.Max(n, m);
        var delta = width <= StackLimit ? stackalloc double[width] : new double[width];
        var seed = (ulong)BitConverter.DoubleToInt64Bits(state[SeedSlot]);
        var steps = (ulong)Count(state, StepsSlot);
        var random = ParticleRandom.FromSeed(seed).Derive(steps);
        var samples = ForecastSamples;
        for (var i = 0; i < samples; i++)
        {
            var weight = 1.0 / (i + 1);
            state.Slice(storageSlot, storageLength).CopyTo(storage);
            state.Slice(PreviousSlot, m).CopyTo(previous);
            for (var k = 1; k <= horizons; k++)
            {
                layout.BuildInput(previous, default, input);
                backend.Step(input, storage, raw);
                backend.ReadState(storage, full);
                if (!AllFinite(full) || !layout.Moments(raw, mean, factor))
                {
                    // A diverging trajectory restarts from the initial state, as a stream would.
                    layout.WriteInitialState(backend, storage);
                    backend.ReadState(storage, full);
                    Neutral(mean, factor);
                }

                var view = full.Slice(viewOffset, n);
                Accumulate(view, forecast.StateMeanAt(k), forecast.StateCovarianceAt(k), weight, default, delta);
                layout.Covariance(factor, sigma);
                Accumulate(mean, forecast.ObservationMeanAt(k), forecast.ObservationCovarianceAt(k), weight, sigma, delta);

                random.FillGaussian(draw);
                for (var a = 0; a < m; a++)
                {
                    var v = mean[a];
                    for (var b = 0; b <= a; b++)
                    {
                        v += factor[(a * m) + b] * draw[b];
                    }

                    previous[a] = v;
                }
            }
        }

        var inverse = 1.0 / samples;
        for (var k = 1; k <= horizons; k++)
        {
            Normalise(forecast.StateCovarianceAt(k), n, inverse);
            Normalise(forecast.ObservationCovarianceAt(k), m, inverse);
        }
    }

    /// <inheritdoc />
    [SkipLocalsInit]
    public void ReadState(ReadOnlySpan<double> state, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadState(state, mean, covariance, Info);
        var s = backend.StateSize;
        var full = s <= StackLimit ? stackalloc double[s] : new double[s];
        backend.ReadState(state.Slice(storageSlot, backend.StorageLength), full);
        full.Slice(viewOffset, n).CopyTo(mean);
        covariance[..(n * n)].Clear();
    }

    /// <inheritdoc />
    public void StartBackward(ReadOnlySpan<double> record, Span<double> message)
    {
        SpanChecks.StartBackward(record, message, Info);
        record[..n].CopyTo(message);
    }

    /// <inheritdoc />
    public void Backward(ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, Span<double> message)
    {
        SpanChecks.Backward(record, nextRecord, message, Info);
        record[..n].CopyTo(message);
    }

    /// <inheritdoc />
    public void ReadSmoothed(ReadOnlySpan<double> record, ReadOnlySpan<double> message, Span<double> mean, Span<double> covariance)
    {
        SpanChecks.ReadSmoothed(record, message, mean, covariance, Info);
        message[..n].CopyTo(mean);
        covariance[..(n * n)].Clear();
    }

    /// <summary>
    /// The first step of a stream whose y_0 is its own first reading: the reading becomes the next input (a missing
    /// component takes y_0's default, the normalisation mean), the net does not step, and nothing is scored. The
    /// record reports the initial state, the reading itself as the observation (zero covariance) and no
    /// log-likelihood.
    /// </summary>
    private void ConditionOnFirstReading(Span<double> state, ReadOnlySpan<double> values, Estimate estimate, Span<double> backwardRecord)
    {
        var previous = state.Slice(PreviousSlot, m);
        var s = backend.StateSize;
        var full = s <= StackLimit ? stackalloc double[s] : new double[s];
        backend.ReadState(state.Slice(storageSlot, backend.StorageLength), full);
        for (var j = 0; j < m; j++)
        {
            previous[j] = j < values.Length && double.IsFinite(values[j]) ? values[j] : layout.ObservationMean[j];
        }

        previous.CopyTo(estimate.ObservationMean);
        estimate.ObservationCovariance.AsSpan().Clear();
        var view = full.Slice(viewOffset, n);
        view.CopyTo(estimate.PredictedMean);
        view.CopyTo(estimate.StateMean);
        estimate.PredictedCovariance.AsSpan().Clear();
        estimate.StateCovariance.AsSpan().Clear();
        SetCount(state, StepsSlot, 1);
        estimate.Extras[0] = Count(state, ResetsSlot);
        if (!backwardRecord.IsEmpty)
        {
            view.CopyTo(backwardRecord);
        }
    }

    /// <summary>Resets recorded by a stream so far (also reported as the <c>resets</c> extra).</summary>
    public static long Resets(ReadOnlySpan<double> state) => Count(state, ResetsSlot);

    private static long Count(ReadOnlySpan<double> state, int slot) => BitConverter.DoubleToInt64Bits(state[slot]);

    private static void SetCount(Span<double> state, int slot, long value) => state[slot] = BitConverter.Int64BitsToDouble(value);

    private static bool AllFinite(ReadOnlySpan<double> values)
    {
        foreach (var v in values)
        {
            if (!double.IsFinite(v))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Welford's update with one more sample x (weight 1/(samples so far)): the running mean moves by weight·(x − mean)
    /// and the centred sum gains (x − old mean)(x − new mean)' plus the sample's own covariance, if any.
    /// </summary>
    private static void Accumulate(ReadOnlySpan<double> x, Span<double> mean, Span<double> centred, double weight, ReadOnlySpan<double> within, Span<double> delta)
    {
        var d = x.Length;
        for (var a = 0; a < d; a++)
        {
            delta[a] = x[a] - mean[a];
            mean[a] += weight * delta[a];
        }

        for (var a = 0; a < d; a++)
        {
            var da = delta[a];
            for (var b = 0; b < d; b++)
            {
                var product = da * (x[b] - mean[b]);
                centred[(a * d) + b] += within.IsEmpty ? product : within[(a * d) + b] + product;
            }
        }
    }

    private static void Normalise(Span<double> covariance, int d, double inverse)
    {
        for (var a = 0; a < d; a++)
        {
            for (var b = 0; b < d; b++)
            {
                covariance[(a * d) + b] *= inverse;
            }
        }

        for (var a = 0; a < d; a++)
        {
            covariance[(a * d) + a] = Math.Max(covariance[(a * d) + a], 0.0);
            for (var b = 0; b < a; b++)
            {
                var v = 0.5 * (covariance[(a * d) + b] + covariance[(b * d) + a]);
                covariance[(a * d) + b] = v;
                covariance[(b * d) + a] = v;
            }
        }
    }

    private static string Describe(RecurrentLayout layout) => layout.Head == RecurrentHeadType.Point ? "point" : layout.CovarianceForm switch
    {
        GaussianCovarianceForm.DiagonalLogVariance => "Gaussian diagonal-log-variance",
        GaussianCovarianceForm.CholeskyExp => "Gaussian cholesky-exp",
        _ => "Gaussian cholesky-softplus",
    };

    /// <summary>The predictive distribution used when even a fresh state gives non-finite output: the
    /// normalisation's mean and scale.</summary>
    private void Neutral(Span<double> mean, Span<double> factor)
    {
        layout.ObservationMean.CopyTo(mean);
        factor[..(m * m)].Clear();
        for (var j = 0; j < m; j++)
        {
            factor[(j * m) + j] = layout.ObservationScale[j];
        }
    }
}
