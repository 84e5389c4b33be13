namespace StreamSeq.Processing.Records;

/// <summary>The wire names of <see cref="DeadLetterReason"/> (kebab-case, stable).</summary>
public static class DeadLetterReasons
{
    /// <summary>The stable name of a reason, e.g. <c>wrong-dimension</c>.</summary>
    public static string Name(DeadLetterReason reason) => reason switch
    {
        DeadLetterReason.Unparseable => "unparseable",
        DeadLetterReason.WrongDimension => "wrong-dimension",
        DeadLetterReason.UnknownModel => "unknown-model",
        DeadLetterReason.TooLate => "too-late",
        DeadLetterReason.TooLarge => "too-large",
        DeadLetterReason.MissingKey => "missing-key",
        DeadLetterReason.StreamLimit => "stream-limit",
        DeadLetterReason.TimeOutOfRange => "time-out-of-range",
        DeadLetterReason.TooFarAhead => "too-far-ahead",
        DeadLetterReason.ConflictingDuplicate => "conflicting-duplicate",
        DeadLetterReason.InvalidKey => "invalid-key",
        DeadLetterReason.OutputTooLarge => "output-too-large",
        DeadLetterReason.KeyMismatch => "key-mismatch",
        DeadLetterReason.StepFailed => "step-failed",
        _ => "unknown",
    };
}
