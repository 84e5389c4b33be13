namespace StreamSeq.Processing.Alerts;

/// <summary>One request's result, published by <see cref="AlertDispatcher.Deliveries"/>.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="Alerts">Alerts in the batch.</param>
/// <param name="Attempt">Which try this was (1 for the first).</param>
/// <param name="Error">Why it failed, when it did.</param>
public sealed record AlertDelivery(AlertDeliveryOutcome Outcome, int Alerts, int Attempt, Exception? Error);
