namespace StreamSeq.Estimation.Gaussian.Adaptive;

/// <summary>How a stream learns a noise parameter online (spec <c>adaptation.observationNoise</c>).</summary>
public enum NoiseLearningMethod
{
    /// <summary>
    /// Recursive maximum likelihood (<c>recursive-ml</c>): a Gauss–Newton step on the log of the parameter after each
    /// reading, with the score and Fisher information of log p(y_t | y_{1:t-1}) from the filter's tangent (sensitivity)
    /// recursions, and the information discounted by the forgetting factor.
    /// </summary>
    RecursiveMaximumLikelihood,

    /// <summary>
    /// The variational-Bayes adaptive Kalman filter (<c>variational-bayes</c>; Särkkä and Nummenmaa 2009): each
    /// observed variance has an inverse-gamma posterior whose shape and scale are discounted by the forgetting factor
    /// and updated with the expected squared residual under the filtered state. Observation noise only.
    /// </summary>
    VariationalBayes,
}
