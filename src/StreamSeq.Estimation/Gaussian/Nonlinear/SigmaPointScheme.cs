namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>The sigma-point sets of the unscented Kalman filter.</summary>
public enum SigmaPointScheme
{
    /// <summary>Van der Merwe's scaled set (alpha, beta, kappa).</summary>
    Merwe,

    /// <summary>Julier and Uhlmann's original symmetric set (kappa); kappa = 0 is the spherical cubature rule.</summary>
    Julier,
}
