namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>Where the extended Kalman filter takes its Jacobians from.</summary>
public enum JacobianSource
{
    /// <summary>The model's analytic Jacobians; central finite differences for any the model does not give.</summary>
    Model,

    /// <summary>Central finite differences for both f and h, ignoring analytic Jacobians.</summary>
    FiniteDifferences,
}
