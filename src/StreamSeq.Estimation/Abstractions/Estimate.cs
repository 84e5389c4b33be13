namespace StreamSeq.Estimation.Abstractions;

/// <summary>
/// Reusable output buffers of one <see cref="IEstimator.Step"/>: allocated once per model and thread, overwritten
/// by every step so the hot path allocates nothing.
/// </summary>
/// <remarks>
/// Symbols: <see cref="PredictedMean"/> and <see cref="PredictedCovariance"/> are the moments of p(h_t | y_{1:t-1});
/// <see cref="ObservationMean"/> and <see cref="ObservationCovariance"/> those of the predictive distribution of
/// y_t; <see cref="StateMean"/> and <see cref="StateCovariance"/> those of p(h_t | y_{1:t}). Covariances are
/// row-major. <see cref="LogLikelihood"/> is log p(y_t | y_{1:t-1}) over the observed components and NaN when y_t
/// is wholly missing; <see cref="NormalizedInnovationSquared"/> is v' S^-1 v for the innovation v = y - E[y] over
/// the observed components.
/// </remarks>
public sealed class Estimate
{
    private double[] flushedTimes = [];
    private int[] flushedLags = [];
    private double[] flushedMeans = [];
    private double[] flushedCovariances = [];
    private double[] flushedExtras = [];

    /// <summary>Allocates buffers sized for an estimator.</summary>
    public Estimate(EstimatorInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        Info = info;
        var n = info.StateDimension;
        var m = info.ObservationDimension;
        PredictedMean = new double[n];
        PredictedCovariance = new double[n * n];
        ObservationMean = new double[m];
        ObservationCovariance = new double[m * m];
        StateMean = new double[n];
        StateCovariance = new double[n * n];
        Extras = new double[info.ExtrasLength];
        SmoothedMean = new double[n];
        SmoothedCovariance = new double[n * n];
        SmoothedExtras = new double[info.SmoothedExtrasLength];
        Parameters = new double[info.ParametersLength];
        ParameterDeviations = new double[info.ParametersLength];
    }

    /// <summary>The estimator these buffers belong to.</summary>
    public EstimatorInfo Info { get; }

    /// <summary>E[h_t | y_{1:t-1}].</summary>
    public double[] PredictedMean { get; }

    /// <summary>Cov[h_t | y_{1:t-1}], row-major.</summary>
    public double[] PredictedCovariance { get; }

    /// <summary>E[y_t | y_{1:t-1}].</summary>
    public double[] ObservationMean { get; }

    /// <summary>Cov[y_t | y_{1:t-1}], row-major.</summary>
    public double[] ObservationCovariance { get; }

    /// <summary>E[h_t | y_{1:t}].</summary>
    public double[] StateMean { get; }

    /// <summary>Cov[h_t | y_{1:t}], row-major.</summary>
    public double[] StateCovariance { get; }

    /// <summary>log p(y_t | y_{1:t-1}); NaN when the observation is wholly missing.</summary>
    public double LogLikelihood { get; set; }

    /// <summary>Normalised innovation squared; NaN when the observation is wholly missing.</summary>
    public double NormalizedInnovationSquared { get; set; }

    /// <summary>Number of observed (non-missing) components used in the update.</summary>
    public int ObservedCount { get; set; }

    /// <summary>Number of values <see cref="NormalizedInnovationSquared"/> sums over (its chi-square degrees of
    /// freedom under the model), or −1 when that is <see cref="ObservedCount"/>. Smaller during an exact diffuse start,
    /// where a value that determines a state direction contributes no innovation.</summary>
    public int InnovationCount { get; set; } = -1;

    /// <summary>Health events of this step.</summary>
    public EstimateFlags Flags { get; set; }

    /// <summary>Family-specific outputs laid out as <see cref="EstimatorInfo.Extras"/> says.</summary>
    public double[] Extras { get; }

    /// <summary>True when this step also produced a fixed-lag smoothed estimate.</summary>
    public bool HasSmoothed { get; set; }

    /// <summary>The lag L of the smoothed estimate.</summary>
    public int SmoothedLag { get; set; }

    /// <summary>The <see cref="Observation.Time"/> of the smoothed step (L steps back).</summary>
    public double SmoothedTime { get; set; }

    /// <summary>E[h_{t-L} | y_{1:t}].</summary>
    public double[] SmoothedMean { get; }

    /// <summary>Cov[h_{t-L} | y_{1:t}], row-major.</summary>
    public double[] SmoothedCovariance { get; }

    /// <summary>Family-specific outputs of the smoothed step, laid out as <see cref="EstimatorInfo.SmoothedExtras"/> says.</summary>
    public double[] SmoothedExtras { get; }

    /// <summary>
    /// Smoothed estimates that close a stretch: on a step that re-initialised the stream
    /// (<see cref="EstimateFlags.Reinitialized"/>), a fixed-lag smoother reports here the steps before the restart that
    /// had not had their smoothed estimate yet, oldest first, each smoothed on the readings up to the restart (the
    /// backward pass never crosses it). 0 on every other step.
    /// </summary>
    public int FlushedCount { get; private set; }

    /// <summary>Room for <paramref name="capacity"/> flushed estimates; allocates only when the room grows, so a
    /// caller that reserves once (a fixed-lag smoother's lag) steps without allocating.</summary>
    public void ReserveFlushed(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        if (capacity <= flushedTimes.Length)
        {
            return;
        }

        var n = Info.StateDimension;
        Array.Resize(ref flushedTimes, capacity);
        Array.Resize(ref flushedLags, capacity);
        Array.Resize(ref flushedMeans, capacity * n);
        Array.Resize(ref flushedCovariances, capacity * n * n);
        Array.Resize(ref flushedExtras, capacity * Info.SmoothedExtrasLength);
    }

    /// <summary>Sets <see cref="FlushedCount"/> (at most the room reserved with <see cref="ReserveFlushed"/>).</summary>
    public void SetFlushedCount(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, flushedTimes.Length);
        FlushedCount = count;
    }

    /// <summary>Sets the time and lag of flushed estimate <paramref name="index"/> (its moments are written in place).</summary>
    public void SetFlushed(int index, double time, int lag)
    {
        flushedTimes[CheckFlushed(index)] = time;
        flushedLags[index] = lag;
    }

    /// <summary>The time (<see cref="Observation.Time"/>) of flushed estimate <paramref name="index"/>.</summary>
    public double FlushedTime(int index) => flushedTimes[CheckFlushed(index)];

    /// <summary>The lag actually used for flushed estimate <paramref name="index"/>: the readings after its step up to the
    /// restart, fewer than the smoother's lag.</summary>
    public int FlushedLag(int index) => flushedLags[CheckFlushed(index)];

    /// <summary>The smoothed mean of flushed estimate <paramref name="index"/>.</summary>
    public Span<double> FlushedMean(int index) => flushedMeans.AsSpan(CheckFlushed(index) * Info.StateDimension, Info.StateDimension);

    /// <summary>The smoothed covariance (row-major) of flushed estimate <paramref name="index"/>.</summary>
    public Span<double> FlushedCovariance(int index)
    {
        var nn = Info.StateDimension * Info.StateDimension;
        return flushedCovariances.AsSpan(CheckFlushed(index) * nn, nn);
    }

    /// <summary>The smoothed extras (<see cref="EstimatorInfo.SmoothedExtras"/>) of flushed estimate <paramref name="index"/>.</summary>
    public Span<double> FlushedExtras(int index) =>
        flushedExtras.AsSpan(CheckFlushed(index) * Info.SmoothedExtrasLength, Info.SmoothedExtrasLength);

    /// <summary>The stream's learned parameters after this step, laid out as <see cref="EstimatorInfo.Parameters"/> says
    /// (empty for models that learn nothing).</summary>
    public double[] Parameters { get; }

    /// <summary>Standard deviations of <see cref="Parameters"/> (NaN where the method gives none).</summary>
    public double[] ParameterDeviations { get; }

    /// <summary>Resets the per-step fields before a step.</summary>
    public void Reset()
    {
        LogLikelihood = double.NaN;
        NormalizedInnovationSquared = double.NaN;
        ObservedCount = 0;
        InnovationCount = -1;
        Flags = EstimateFlags.None;
        HasSmoothed = false;
        FlushedCount = 0;
    }

    private int CheckFlushed(int index)
    {
        if ((uint)index >= (uint)flushedTimes.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, "beyond the room reserved for flushed estimates.");
        }

        return index;
    }
}
