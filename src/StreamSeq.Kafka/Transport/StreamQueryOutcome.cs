namespace StreamSeq.Kafka.Transport;

/// <summary>How a query of a stream's state (<see cref="KafkaStreamWorker.QueryAsync"/>) ended.</summary>
public enum StreamQueryOutcome
{
    /// <summary>The loop answered: the stream's snapshot, or none when no partition owned here holds the stream.</summary>
    Answered,

    /// <summary>The loop has not started yet (it waits for the broker or initialises its clients): it owns nothing.</summary>
    NotStarted,

    /// <summary>The loop has stopped (a shutdown or a fatal error); queries still waiting then get this answer.</summary>
    Stopped,

    /// <summary>
    /// <see cref="KafkaStreamWorker.MaxPendingQueries"/> queries already wait for the loop: refused at once, without
    /// joining the queue.
    /// </summary>
    Full,

    /// <summary>
    /// The loop did not answer within the time allowed: it answers between records, and was held up (restoring a
    /// changelog, a rebalance, a commit waiting for the broker).
    /// </summary>
    TimedOut,

    /// <summary>
    /// The loop owns the stream, but its model threw while reading the stream's state (a damaged state restored from
    /// the changelog): <see cref="StreamQueryResult.Problem"/> says what it threw. The stream's next record starts it
    /// again from its model's prior.
    /// </summary>
    Unreadable,

    /// <summary>
    /// The loop owns the stream, but its stored state is not one the configured model reads: written by an earlier
    /// model under the same name (changed between runs), or by a model no longer configured.
    /// <see cref="StreamQueryResult.Problem"/> says which. The stream has no state of the current model yet: its next
    /// record replaces the stored one with a state started from the model's prior.
    /// </summary>
    Superseded,
}
