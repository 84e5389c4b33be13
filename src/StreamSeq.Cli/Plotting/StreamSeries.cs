namespace StreamSeq.Cli.Plotting;

/// <summary>Everything plotted for one stream, gathered from a run's output records and (optionally) its input.</summary>
internal sealed class StreamSeries(string stream)
{
    /// <summary>Stream id.</summary>
    public string Stream { get; } = stream;

    /// <summary>Model name (from the output records).</summary>
    public string Model { get; set; } = string.Empty;

    /// <summary>True when times are epoch milliseconds (ISO-8601 input), false for model time units.</summary>
    public bool TimeIsDate { get; set; }

    /// <summary>Fixed-lag smoothing lag seen in the smoothed records (0 = none).</summary>
    public int Lag { get; set; }

    /// <summary>True when <see cref="Filtered"/> holds projected filtered states; false when it holds one-step predictions.</summary>
    public bool FilteredIsProjected { get; set; } = true;

    /// <summary>Readings, from the observation file.</summary>
    public List<SeriesPoint> Observations { get; } = [];

    /// <summary>Filtered signal (or one-step prediction, see <see cref="FilteredIsProjected"/>) per observation.</summary>
    public List<SeriesPoint> Filtered { get; } = [];

    /// <summary>Smoothed signal (fixed-lag, or fixed-interval when the run used --smooth).</summary>
    public List<SeriesPoint> Smoothed { get; } = [];

    /// <summary>Every forecast, in file order.</summary>
    public List<(double MadeAt, int Horizon, SeriesPoint Point)> Forecasts { get; } = [];

    /// <summary>Anomaly alerts.</summary>
    public List<AnomalyPoint> Anomalies { get; } = [];

    /// <summary>The observed dimension (largest vector seen).</summary>
    public int Components { get; set; } = 1;

    /// <summary>The forecasts made at the last forecast origin, by horizon: the fan drawn at the end of the chart.</summary>
    public IReadOnlyList<SeriesPoint> LatestForecasts()
    {
        if (Forecasts.Count == 0)
        {
            return [];
        }

        var last = Forecasts.Max(f => f.MadeAt);
        return [.. Forecasts.Where(f => f.MadeAt == last).OrderBy(f => f.Horizon).Select(f => f.Point)];
    }
}
