using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Smoothing;

/// <summary>
/// Fixed-interval smoothing p(h_t | y_{1:T}) over a finished series: a forward pass that keeps every backward
/// record, then one backward pass (Rauch–Tung–Striebel for Gaussian filters) through
/// <see cref="IBackwardStep.BackwardOverInterval"/> (marginal FFBSm weights for particle filters whose model has a
/// transition density).
/// </summary>
public static class FixedIntervalSmoother
{
    /// <summary>Smooths a list of forward records (oldest first) and returns means (T×n) and covariances (T×n×n).</summary>
    public static (double[] Means, double[] Covariances) Smooth(IEstimator estimator, IReadOnlyList<double[]> records)
    {
        var (means, covariances, _) = SmoothWithExtras(estimator, records);
        return (means, covariances);
    }

    /// <summary>
    /// Smooths a list of forward records (oldest first) and returns means (T×n), covariances (T×n×n) and the smoothed
    /// extras (T × <see cref="EstimatorInfo.SmoothedExtrasLength"/>, such as the HMM's Viterbi path).
    /// </summary>
    public static (double[] Means, double[] Covariances, double[] Extras) SmoothWithExtras(IEstimator estimator, IReadOnlyList<double[]> records) =>
        SmoothWithExtras(estimator, records, null);

    /// <summary>
    /// As <see cref="SmoothWithExtras(IEstimator, IReadOnlyList{double[]})"/>, telling <paramref name="progress"/> how many
    /// steps have been smoothed after each one (the backward pass of a particle filter with a transition density costs
    /// O(N²) a step, seconds over a long series).
    /// </summary>
    public static (double[] Means, double[] Covariances, double[] Extras) SmoothWithExtras(IEstimator estimator, IReadOnlyList<double[]> records, Action<int>? progress)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        ArgumentNullException.ThrowIfNull(records);
        if (estimator is not IBackwardStep backward || !estimator.Info.CanSmooth)
        {
            throw new ModelValidationException("smooth", $"the {estimator.Info.Family} estimator has no backward step, so it cannot smooth.");
        }

        var n = estimator.Info.StateDimension;
        var t = records.Count;
        var e = estimator.Info.SmoothedExtrasLength;
        var means = new double[t * n];
        var covs = new double[t * n * n];
        var extras = new double[t * e];
        if (t == 0)
        {
            return (means, covs, extras);
        }

        var message = new double[estimator.Info.SmoothingMessageLength];
        backward.StartBackward(records[t - 1], message);
        backward.ReadSmoothed(records[t - 1], message, means.AsSpan((t - 1) * n, n), covs.AsSpan((t - 1) * n * n, n * n));
        backward.ReadSmoothedExtras(records[t - 1], message, extras.AsSpan((t - 1) * e, e));
        progress?.Invoke(1);
        for (var i = t - 2; i >= 0; i--)
        {
            backward.BackwardOverInterval(records[i], records[i + 1], message);
            backward.ReadSmoothed(records[i], message, means.AsSpan(i * n, n), covs.AsSpan(i * n * n, n * n));
            backward.ReadSmoothedExtras(records[i], message, extras.AsSpan(i * e, e));
            progress?.Invoke(t - i);
        }

        return (means, covs, extras);
    }

    /// <summary>Filters a series from the prior, keeping the records, and smooths it.</summary>
    public static (double[] Means, double[] Covariances) Smooth(IEstimator estimator, ObservationSeries series, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        ArgumentNullException.ThrowIfNull(series);
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, seed);
        var estimate = new Estimate(estimator.Info);
        var records = new List<double[]>(series.Length);
        for (var t = 0; t < series.Length; t++)
        {
            var record = new double[estimator.Info.BackwardRecordLength];
            estimator.Step(state, series.At(t), estimate, record);
            records.Add(record);
        }

        return Smooth(estimator, records);
    }
}
