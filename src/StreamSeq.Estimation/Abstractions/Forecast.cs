namespace StreamSeq.Estimation.Abstractions;

/// <summary>Reusable buffers for k-step-ahead forecasts, horizons 1..<see cref="MaxHorizon"/>.</summary>
/// <remarks>Horizon k (1-based) occupies block k-1 of each buffer: state mean n, state covariance n×n,
/// observation mean m, observation covariance m×m, all row-major.</remarks>
public sealed class Forecast
{
    /// <summary>Allocates forecast buffers.</summary>
    public Forecast(EstimatorInfo info, int maxHorizon)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHorizon, 1);
        Info = info;
        MaxHorizon = maxHorizon;
        var n = info.StateDimension;
        var m = info.ObservationDimension;
        StateMean = new double[maxHorizon * n];
        StateCovariance = new double[maxHorizon * n * n];
        ObservationMean = new double[maxHorizon * m];
        ObservationCovariance = new double[maxHorizon * m * m];
    }

    /// <summary>The estimator these buffers belong to.</summary>
    public EstimatorInfo Info { get; }

    /// <summary>Largest horizon k.</summary>
    public int MaxHorizon { get; }

    /// <summary>State means, horizon-major.</summary>
    public double[] StateMean { get; }

    /// <summary>State covariances, horizon-major.</summary>
    public double[] StateCovariance { get; }

    /// <summary>Observation means, horizon-major.</summary>
    public double[] ObservationMean { get; }

    /// <summary>Observation covariances, horizon-major.</summary>
    public double[] ObservationCovariance { get; }

    /// <summary>E[h_{t+k} | y_{1:t}].</summary>
    public Span<double> StateMeanAt(int horizon) => StateMean.AsSpan((horizon - 1) * Info.StateDimension, Info.StateDimension);

    /// <summary>Cov[h_{t+k} | y_{1:t}].</summary>
    public Span<double> StateCovarianceAt(int horizon)
    {
        var nn = Info.StateDimension * Info.StateDimension;
        return StateCovariance.AsSpan((horizon - 1) * nn, nn);
    }

    /// <summary>E[y_{t+k} | y_{1:t}].</summary>
    public Span<double> ObservationMeanAt(int horizon) => ObservationMean.AsSpan((horizon - 1) * Info.ObservationDimension, Info.ObservationDimension);

    /// <summary>Cov[y_{t+k} | y_{1:t}].</summary>
    public Span<double> ObservationCovarianceAt(int horizon)
    {
        var mm = Info.ObservationDimension * Info.ObservationDimension;
        return ObservationCovariance.AsSpan((horizon - 1) * mm, mm);
    }
}
