namespace StreamSeq.Estimation.Abstractions;

/// <summary>
/// A backward step whose record of a re-initialised step (<see cref="EstimateFlags.Reinitialized"/>) is the first record
/// of the stretch the restart begins: the step's fresh state, drawn from the prior with the reading assimilated as a
/// first step assimilates it, from which every later step descends. Smoothing keeps that record at the start of the new
/// stretch, so the re-initialised step gets a smoothed estimate as the first step of a stream does; for other
/// estimators the re-initialised step's record may hold the failed step, and the step is left out.
/// </summary>
/// <remarks>The backward step of such an estimator never carries the message back across a re-initialised step's
/// record: the steps before the restart are smoothed on the readings up to it.</remarks>
internal interface IRestartRecords
{
}
