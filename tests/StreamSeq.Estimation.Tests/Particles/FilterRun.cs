using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Tests.Particles;

/// <summary>Runs an estimator over a series and keeps what the tests compare.</summary>
internal sealed class FilterRun
{
    public FilterRun(int steps, int n, int extras)
    {
        Means = new double[steps * n];
        Covariances = new double[steps * n * n];
        PredictedMeans = new double[steps * n];
        ObservationMeans = new double[steps];
        LogLikelihoods = new double[steps];
        Extras = new double[steps * extras];
        Flags = new EstimateFlags[steps];
    }

    public double[] Means { get; }

    public double[] Covariances { get; }

    public double[] PredictedMeans { get; }

    public double[] ObservationMeans { get; }

    public double[] LogLikelihoods { get; }

    public double[] Extras { get; }

    public EstimateFlags[] Flags { get; }

    /// <summary>
    /// The sum of every step's log-likelihood. Every step must be finite: a NaN or −∞ step (a missed observation, a
    /// collapsed particle set) fails the calling test instead of silently dropping out of the sum it compares.
    /// </summary>
    public double TotalLogLikelihood
    {
        get
        {
            for (var t = 0; t < LogLikelihoods.Length; t++)
            {
                Assert.True(double.IsFinite(LogLikelihoods[t]), $"step {t + 1}: log-likelihood {LogLikelihoods[t]} is not finite");
            }

            return LogLikelihoods.Sum();
        }
    }

    public static FilterRun Execute(IEstimator estimator, ObservationSeries series, ulong seed = 0)
    {
        var info = estimator.Info;
        var n = info.StateDimension;
        var run = new FilterRun(series.Length, n, info.ExtrasLength);
        var state = new double[info.StateLength];
        estimator.Initialize(state, seed);
        var estimate = new Estimate(info);
        for (var t = 0; t < series.Length; t++)
        {
            estimator.Step(state, series.At(t), estimate, default);
            estimate.StateMean.CopyTo(run.Means, t * n);
            estimate.StateCovariance.CopyTo(run.Covariances, t * n * n);
            estimate.PredictedMean.CopyTo(run.PredictedMeans, t * n);
            run.ObservationMeans[t] = estimate.ObservationMean[0];
            run.LogLikelihoods[t] = estimate.LogLikelihood;
            estimate.Extras.CopyTo(run.Extras, t * info.ExtrasLength);
            run.Flags[t] = estimate.Flags;
        }

        return run;
    }
}
