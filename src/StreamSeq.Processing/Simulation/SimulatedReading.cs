namespace StreamSeq.Processing.Simulation;

/// <summary>One simulated reading.</summary>
/// <param name="Stream">Stream id, e.g. <c>temperature-0007</c>.</param>
/// <param name="Kind">Sensor kind.</param>
/// <param name="TimeMilliseconds">Event time, epoch milliseconds.</param>
/// <param name="Values">Values (NaN = missing component).</param>
/// <param name="Fault">The fault active at this reading (ground truth for tests and demos).</param>
public sealed record SimulatedReading(string Stream, SensorKind Kind, long TimeMilliseconds, double[] Values, FaultKind Fault);
