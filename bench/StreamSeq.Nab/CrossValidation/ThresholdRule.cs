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

    /// <summary>
    /// The threshold whose summed score on the training files, averaged over the threshold moved by each of
    /// <see cref="CrossValidator.RobustShifts"/>, is highest: the middle of a broad plateau rather than the top of a
    /// narrow peak, for a threshold that will be used on other files.
    /// </summary>
    Smoothed,
}
