namespace StreamSeq.Processing.Simulation;

/// <summary>The kinds of simulated sensors (each maps to a model in the embedded demo).</summary>
public enum SensorKind
{
    /// <summary>A room temperature: slow drift plus a daily cycle plus noise, one value.</summary>
    Temperature,

    /// <summary>A tracked position in 2-D: constant-velocity motion observed with noise, two values.</summary>
    Position,

    /// <summary>A pressure gauge: mean-reverting around a set point, one value.</summary>
    Pressure,
}
