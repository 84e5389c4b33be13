namespace StreamSeq.Nab.CrossValidation;

/// <summary>What a candidate is judged by inside the training folds.</summary>
public enum SelectionCriterion
{
    /// <summary>The pooled cross-validated score of the selection profile, each inner fold at the threshold fitted on the others.</summary>
    Pooled,

    /// <summary>
    /// The same pooled score averaged over the inner folds' thresholds moved by each of
    /// <see cref="CrossValidator.RobustShifts"/>: a candidate whose score holds when its threshold does not transfer
    /// exactly is preferred to one that is best only at the fitted threshold.
    /// </summary>
    Robust,
}
