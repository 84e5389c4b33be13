namespace StreamSeq.Estimation.Recurrent;

/// <summary>What the head of a recurrent estimator predicts.</summary>
public enum RecurrentHeadType
{
    /// <summary>The mean and covariance parameters of a Gaussian over the next observation (see
    /// <see cref="GaussianCovarianceForm"/>).</summary>
    Gaussian,

    /// <summary>A point prediction; the predictive variance is a fixed, configured value.</summary>
    Point,
}
