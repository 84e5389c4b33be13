namespace StreamSeq.Processing.Simulation;

/// <summary>Settings of the sensor simulator.</summary>
public sealed class SimulatorOptions
{
    /// <summary>Number of streams.</summary>
    public int Streams { get; init; } = 12;

    /// <summary>Nominal sampling interval (readings are jittered by ±10%).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Event time of the first round, epoch milliseconds.</summary>
    public long StartMilliseconds { get; init; } = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    /// <summary>Probability per reading that a fault episode starts.</summary>
    public double FaultRate { get; init; } = 0.004;

    /// <summary>Rounds without faults at the start (lets filters settle).</summary>
    public int WarmUpRounds { get; init; } = 60;

    /// <summary>Seed; the same seed gives the same fleet.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Sensor kinds to cycle through (all kinds when null or empty).</summary>
    public IReadOnlyList<SensorKind>? Kinds { get; init; }
}
