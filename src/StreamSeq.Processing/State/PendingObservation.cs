using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.State;

/// <summary>An observation held back by the allowed-lateness buffer until the stream's watermark passes it.</summary>
/// <param name="Time">Event time.</param>
/// <param name="ModelTime">Event time in model units.</param>
/// <param name="Values">Observed components.</param>
/// <param name="Control">Control input.</param>
/// <param name="Source">Where it came from.</param>
public sealed record PendingObservation(RecordTime Time, double ModelTime, double[] Values, double[] Control, SourcePosition Source);
