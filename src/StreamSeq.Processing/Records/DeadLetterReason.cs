namespace StreamSeq.Processing.Records;

/// <summary>Why a record could not be processed. Written as a header on dead letters.</summary>
public enum DeadLetterReason
{
    /// <summary>The bytes are not a valid input record (bad JSON, wrong types, unparseable number or time).</summary>
    Unparseable,

    /// <summary>The number of values differs from the model's observation dimension.</summary>
    WrongDimension,

    /// <summary>No model is configured for the stream.</summary>
    UnknownModel,

    /// <summary>The record is older than the stream's last processed time by more than the allowed lateness.</summary>
    TooLate,

    /// <summary>The record exceeds the configured maximum size or component count.</summary>
    TooLarge,

    /// <summary>The record has no stream id.</summary>
    MissingKey,

    /// <summary>
    /// Never produced: kept so that the reasons after it keep their numbers. Streams beyond
    /// <c>MaxLiveStreams</c> are evicted to their serialised state, never refused (an early design refused them).
    /// </summary>
    StreamLimit,

    /// <summary>The record's time, or a forecast time it leads to, cannot be represented (a date outside the years 1 to 9999).</summary>
    TimeOutOfRange,

    /// <summary>
    /// The record's time is further ahead than the allowed skew: of its transport timestamp (Kafka), or of its stream's
    /// newest time when there is none (files).
    /// </summary>
    TooFarAhead,

    /// <summary>The record has the time of its stream's last reading but different values (an exact repeat is a dropped duplicate).</summary>
    ConflictingDuplicate,

    /// <summary>The stream id (Kafka key) is not usable: not valid UTF-8, too long, or starting with a NUL character.</summary>
    InvalidKey,

    /// <summary>The record was processed but some of its output records exceed the broker's message size.</summary>
    OutputTooLarge,

    /// <summary>
    /// The record carries a stream id in its value (a <c>stream</c> field) that differs from its transport key, the stream
    /// id that decides its partition.
    /// </summary>
    KeyMismatch,

    /// <summary>
    /// The stream's model threw while stepping the record, from the stream's state and again from the model's prior: the
    /// record is not processed and the stream stays at its prior.
    /// </summary>
    StepFailed,
}
