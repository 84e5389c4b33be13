using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.Views;

/// <summary>
/// One output record reduced to what a chart draws, in observation space: a line value and a standard deviation
/// per observed component, plus the record's health numbers. Built by <see cref="ChartRecordReader"/>.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>filtered</c>: <see cref="Mean"/>/<see cref="StandardDeviation"/> are the filtered state projected into
/// observation space (null when the model has no <see cref="ObservationProjection"/>);
/// <see cref="PredictiveMean"/>/<see cref="PredictiveStandardDeviation"/> are the one-step predictive distribution
/// of the reading (the record's <c>observation</c>).</item>
/// <item><c>smoothed</c>: the smoothed state projected (null without a projection).</item>
/// <item><c>forecast</c>: the predictive distribution of the reading <see cref="Horizon"/> steps ahead.</item>
/// <item><c>anomaly</c>: the observed <see cref="Values"/>, the <see cref="PredictiveMean"/> (<c>expected</c>),
/// <see cref="Rule"/>, <see cref="Score"/> and <see cref="Threshold"/>.</item>
/// </list>
/// </remarks>
public sealed class ChartRecord
{
    /// <summary>The record type.</summary>
    public required OutputKind Kind { get; init; }

    /// <summary>Stream id.</summary>
    public required string Stream { get; init; }

    /// <summary>Model name.</summary>
    public required string Model { get; init; }

    /// <summary>The record's time: epoch milliseconds when <see cref="TimeIsDate"/>, model time units otherwise.</summary>
    public required double Time { get; init; }

    /// <summary>True when <see cref="Time"/> is epoch milliseconds (ISO-8601 or Kafka epoch times).</summary>
    public required bool TimeIsDate { get; init; }

    /// <summary>The line in observation space (see remarks), or null.</summary>
    public double[]? Mean { get; init; }

    /// <summary>Standard deviations matching <see cref="Mean"/>, or null.</summary>
    public double[]? StandardDeviation { get; init; }

    /// <summary>The predictive mean of the reading (filtered, forecast) or the expected value (anomaly), or null.</summary>
    public double[]? PredictiveMean { get; init; }

    /// <summary>Standard deviations matching <see cref="PredictiveMean"/>, or null.</summary>
    public double[]? PredictiveStandardDeviation { get; init; }

    /// <summary>Observed values of an anomaly (NaN = missing), or null.</summary>
    public double[]? Values { get; init; }

    /// <summary>Forecast horizon k (0 for other records).</summary>
    public int Horizon { get; init; }

    /// <summary>Time of the last observation a forecast used (NaN for other records).</summary>
    public double MadeAt { get; init; } = double.NaN;

    /// <summary>Smoothing lag (0 for other records).</summary>
    public int Lag { get; init; }

    /// <summary>Smoothing method, <c>fixed-lag</c> or <c>fixed-interval</c> (null for other records).</summary>
    public string? Method { get; init; }

    /// <summary>Normalised innovation squared (NaN when absent).</summary>
    public double Nis { get; init; } = double.NaN;

    /// <summary>log p(y_t | y_{1:t-1}) (NaN when absent).</summary>
    public double LogLikelihood { get; init; } = double.NaN;

    /// <summary>Anomaly rule name, or null.</summary>
    public string? Rule { get; init; }

    /// <summary>Anomaly score (NaN for other records).</summary>
    public double Score { get; init; } = double.NaN;

    /// <summary>Anomaly threshold (NaN for other records).</summary>
    public double Threshold { get; init; } = double.NaN;

    /// <summary>Scalar family extras of a filtered record (for example <c>ess</c>, <c>mapRunLength</c>).</summary>
    public IReadOnlyDictionary<string, double> Extras { get; init; } = EmptyExtras;

    /// <summary>Health flags of a filtered record (<c>repaired</c>, <c>reinitialized</c>, ...).</summary>
    public IReadOnlyList<string> Health { get; init; } = [];

    /// <summary>The learned parameters of a filtered record (models with <c>adapt</c>), one entry per number: a matrix's
    /// non-zero entries are named <c>name[i][j]</c>; the standard deviation is NaN where the record has none.</summary>
    public IReadOnlyList<(string Name, double Value, double StandardDeviation)> Parameters { get; init; } = [];

    private static readonly Dictionary<string, double> EmptyExtras = [];
}
