namespace StreamSeq.Processing.Anomaly;

/// <summary>A step's verdict from the anomaly rules, before the gate.</summary>
/// <param name="Stream">Stream id.</param>
/// <param name="Time">Event time (model units).</param>
/// <param name="Beyond">True when some rule is beyond its threshold.</param>
/// <param name="Cleared">True when every rule is inside its clear threshold.</param>
/// <param name="Score">The firing rule's score.</param>
public sealed record AlertCandidate(string Stream, double Time, bool Beyond, bool Cleared, double Score);
