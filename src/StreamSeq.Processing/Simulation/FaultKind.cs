namespace StreamSeq.Processing.Simulation;

/// <summary>Faults the simulator injects into sensor streams.</summary>
public enum FaultKind
{
    /// <summary>No fault.</summary>
    None,

    /// <summary>A single reading far off (several standard deviations).</summary>
    Spike,

    /// <summary>A slow additive drift that builds up over many readings.</summary>
    Drift,

    /// <summary>The sensor repeats its last reading.</summary>
    Stuck,

    /// <summary>Readings go missing (null values or skipped records).</summary>
    Gap,

    /// <summary>A sudden, lasting level shift.</summary>
    LevelShift,
}
