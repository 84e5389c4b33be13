namespace StreamSeq.Estimation.Abstractions;

/// <summary>
/// A backward step whose record of a re-initialised step (<see cref="EstimateFlags.Reinitialized"/>) can be the first
/// record of the stretch the restart begins: the step's fresh state, drawn from the prior with the reading assimilated as
/// a first step assimilates it, from which every later step descends. Smoothing then keeps that record at the start of
/// the new stretch, so the re-initialised step gets a smoothed estimate as the first step of a stream does; otherwise
/// (<see cref="BeginsStretch"/> false, or an estimator without this interface) the re-initialised step's record may hold
/// the failed step, and the step is left out.
/// </summary>
/// <remarks>The backward step of such an estimator never carries the message back across a re-initialised step's
/// record: the steps before the restart are smoothed on the readings up to it.</remarks>
internal interface IRestartRecords
{
    /// <summary>
    /// Whether the record just written by a re-initialised step is the first record of the new stretch, read from the
    /// estimator's state after that step (<paramref name="state"/>: the estimator's own state, or a longer buffer that
    /// begins with it): true when the step restarted from the prior and assimilated its reading as a first step, so
    /// the next step predicts from it; false when the state was left at the prior (the next step is the stretch's first).
    /// </summary>
    bool BeginsStretch(ReadOnlySpan<double> state);
}
