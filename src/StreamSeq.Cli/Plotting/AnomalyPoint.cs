namespace StreamSeq.Cli.Plotting;

/// <summary>An anomaly alert placed on the chart: at its time, at the observed value (or the expected one when the reading is missing).</summary>
/// <param name="Time">Alert time.</param>
/// <param name="Values">Observed components (NaN = missing).</param>
/// <param name="Expected">Predicted components.</param>
/// <param name="Rule">The rule that fired.</param>
/// <param name="Score">Its score.</param>
internal sealed record AnomalyPoint(double Time, double[] Values, double[] Expected, string Rule, double Score)
{
    /// <summary>Where the marker goes for component <paramref name="component"/>.</summary>
    public double MarkerValue(int component) =>
        component < Values.Length && double.IsFinite(Values[component]) ? Values[component]
        : component < Expected.Length ? Expected[component] : double.NaN;
}
