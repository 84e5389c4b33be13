namespace StreamSeq.Processing.Anomaly;

/// <summary>Post-processing of alerts per stream, in event time.</summary>
public sealed record AlertGateOptions
{
    /// <summary>One alert per episode: after an alert, stay quiet until every rule has cleared. Default true.</summary>
    public bool Hysteresis { get; init; } = true;

    /// <summary>Minimum model time between two alerts of a stream (suppression). Default 0.</summary>
    public double MinInterval { get; init; }

    /// <summary>At most this many alerts per <see cref="RateWindow"/> per stream; 0 = unlimited.</summary>
    public int MaxAlertsPerWindow { get; init; }

    /// <summary>Length of the rate-limit window in model time.</summary>
    public double RateWindow { get; init; } = 1.0;
}
