namespace StreamSeq.Processing.Anomaly;

/// <summary>The per-stream state of the alert gate (serialised with the stream so restores continue exactly).</summary>
public struct AlertGateState
{
    /// <summary>True while an alert episode is open (hysteresis).</summary>
    public bool Active { get; set; }

    /// <summary>Model time of the last alert (NaN before the first).</summary>
    public double LastAlertTime { get; set; }

    /// <summary>Start of the current rate-limit window.</summary>
    public double WindowStart { get; set; }

    /// <summary>Alerts in the current rate-limit window.</summary>
    public int WindowCount { get; set; }

    /// <summary>Alerts emitted in total.</summary>
    public long TotalAlerts { get; set; }

    /// <summary>Alerts held back by hysteresis, suppression or the rate limit.</summary>
    public long Suppressed { get; set; }

    /// <summary>The initial state.</summary>
    public static AlertGateState Initial => new() { LastAlertTime = double.NaN, WindowStart = double.NaN };
}
