namespace StreamSeq.Kafka.Transport;

/// <summary>The answer to a query of a stream's state (<see cref="KafkaStreamWorker.QueryAsync"/>).</summary>
/// <param name="Outcome">How the query ended.</param>
/// <param name="Snapshot">The stream's state when the loop answered and owns the stream; null otherwise.</param>
/// <param name="Problem">Why the stream's state could not be read (<see cref="StreamQueryOutcome.Unreadable"/>); null otherwise.</param>
public readonly record struct StreamQueryResult(StreamQueryOutcome Outcome, StreamSnapshot? Snapshot = null, string? Problem = null);
