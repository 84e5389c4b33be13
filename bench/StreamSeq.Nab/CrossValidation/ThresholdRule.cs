namespace StreamSeq.Nab.CrossValidation;

/// <summary>How a threshold is fitted on a set of training files.</summary>
public enum ThresholdRule
{
    /// <summary>NAB's optimiser: the threshold with the highest summed score on the training files.</summary>
    Optimal,

    /// <summary>
    /// The median of NAB's optimal thresholds over bootstrap resamples of the training files (bagging): a threshold
    /// that does not hinge on which few files happen to be in the training set.
    /// </summary>
    Bagged,
}
