namespace StreamSeq.Kafka.Reading;

/// <summary>How a <see cref="CommittedReader"/> run ended.</summary>
/// <param name="Records">Records handed on.</param>
/// <param name="Uncommitted">Records left out at the end because their transaction had not committed (marker rule).</param>
/// <param name="Dropped">Records of aborted transactions left out while reading (marker rule).</param>
public sealed record CommittedReadResult(long Records, long Uncommitted, long Dropped);
