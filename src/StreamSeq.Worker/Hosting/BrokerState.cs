namespace StreamSeq.Worker.Hosting;

/// <summary>The outcome of the last metadata request to the broker.</summary>
/// <param name="Reachable">True when the broker answered.</param>
/// <param name="Problem">Why it did not, when it did not.</param>
/// <param name="At">When the request ended.</param>
public sealed record BrokerState(bool Reachable, string? Problem, DateTimeOffset At);
