namespace StreamSeq.Processing.Records;

/// <summary>The kinds of output records (the <c>type</c> field; each goes to its own Kafka topic).</summary>
public enum OutputKind
{
    /// <summary>Predicted, observation and filtered moments with innovation statistics, per observation.</summary>
    Filtered,

    /// <summary>A smoothed state: fixed-lag online, or fixed-interval over a finished file.</summary>
    Smoothed,

    /// <summary>A k-step-ahead forecast.</summary>
    Forecast,

    /// <summary>An anomaly alert.</summary>
    Anomaly,
}
