using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Gaussian;

/// <summary>
/// The E-step of linear Gaussian EM for one sequence: the Kalman filter forward (keeping backward records), then
/// the Rauch–Tung–Striebel pass, giving the smoothed means x_{t|T}, covariances P_{t|T} and lag-one
/// cross-covariances P_{t,t-1|T} = Cov(h_t, h_{t-1} | y_{1:T}) = P_{t|T} G_{t-1}' (G the smoother gain).
/// </summary>
/// <remarks>Buffers are kept between iterations, so repeated E-steps on the same series allocate nothing new.
/// Inside an exact diffuse start the moments are the exact diffuse smoother's (<see cref="DiffuseSmoothing"/>) when the
/// series determines every state direction before its end; a series that does not (<see cref="StillDiffuse"/>), or
/// one past the reading budget's fallback, rests on the finite stand-in κ there.</remarks>
internal sealed class SmoothedSequence
{
    private readonly int n;
    private double[] records = [];
    private double[] gain = [];

    /// <summary>Creates the buffers for <paramref name="series"/> and a model of <paramref name="stateDimension"/> states.</summary>
    public SmoothedSequence(ObservationSeries series, int stateDimension)
    {
        Series = series;
        n = stateDimension;
        var t = series.Length;
        Means = new double[t * n];
        Covariances = new double[t * n * n];
        CrossCovariances = new double[t * n * n];
        Updated = new bool[t];
    }

    /// <summary>The data.</summary>
    public ObservationSeries Series { get; }

    /// <summary>Number of steps T.</summary>
    public int Length => Series.Length;

    /// <summary>x_{t|T}, T×n.</summary>
    public double[] Means { get; }

    /// <summary>P_{t|T}, T×n×n.</summary>
    public double[] Covariances { get; }

    /// <summary>Cov(h_t, h_{t-1} | y_{1:T}) at index t ≥ 1 (index 0 is unused), T×n×n.</summary>
    public double[] CrossCovariances { get; }

    /// <summary>Whether the filter used step t's observation (false when wholly missing or skipped).</summary>
    public bool[] Updated { get; }

    /// <summary>True when the exact diffuse period had not ended by the last step: some state combination is never
    /// determined by the data, and the smoothed moments would rest on the finite stand-in for κ.</summary>
    public bool StillDiffuse { get; private set; }

    /// <summary>log p(y_{1:T}) under the parameters of the last <see cref="Compute"/>.</summary>
    public double LogLikelihood { get; private set; }

    /// <summary>Filters and smooths the series. Returns false (with the step index) when the filter re-initialised,
    /// which makes the likelihood −∞.</summary>
    public bool Compute(KalmanFilter filter, out int failedStep)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var info = filter.Info;
        var len = info.BackwardRecordLength;
        var t = Series.Length;
        var nn = n * n;
        if (records.Length != t * len)
        {
            records = new double[t * len];
            gain = new double[nn];
        }

        var state = new double[info.StateLength];
        var estimate = new Estimate(info);
        filter.Initialize(state, 0);
        var loglik = 0.0;
        failedStep = -1;
        for (var i = 0; i < t; i++)
        {
            filter.Step(state, Series.At(i), estimate, records.AsSpan(i * len, len));
            if ((estimate.Flags & EstimateFlags.Reinitialized) != 0)
            {
                failedStep = i;
                LogLikelihood = double.NegativeInfinity;
                return false;
            }

            Updated[i] = estimate.ObservedCount > 0 && (estimate.Flags & EstimateFlags.ObservationSkipped) == 0;
            if (!double.IsNaN(estimate.LogLikelihood))
            {
                loglik += estimate.LogLikelihood;
            }
        }

        LogLikelihood = loglik;
        StillDiffuse = KalmanFilter.IsStillDiffuse(state);
        if (t == 0)
        {
            return true;
        }

        var message = new double[info.SmoothingMessageLength];
        filter.StartBackward(records.AsSpan((t - 1) * len, len), message);
        message.AsSpan(0, n).CopyTo(Means.AsSpan((t - 1) * n, n));
        message.AsSpan(n, nn).CopyTo(Covariances.AsSpan((t - 1) * nn, nn));
        for (var i = t - 2; i >= 0; i--)
        {
            filter.Backward(records.AsSpan(i * len, len), records.AsSpan((i + 1) * len, len), message, gain);
            message.AsSpan(0, n).CopyTo(Means.AsSpan(i * n, n));
            message.AsSpan(n, nn).CopyTo(Covariances.AsSpan(i * nn, nn));

            // Cov(h_{i+1}, h_i | y) = P_{i+1|T} G_i' with gain = G_i'.
            var next = Covariances.AsSpan((i + 1) * nn, nn);
            var cross = CrossCovariances.AsSpan((i + 1) * nn, nn);
            for (var r = 0; r < n; r++)
            {
                for (var c = 0; c < n; c++)
                {
                    var s = 0.0;
                    for (var k = 0; k < n; k++)
                    {
                        s += next[(r * n) + k] * gain[(k * n) + c];
                    }

                    cross[(r * n) + c] = s;
                }
            }
        }

        return true;
    }
}
