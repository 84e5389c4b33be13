using System.Globalization;
using ScottPlot;

namespace StreamSeq.Cli.Plotting;

/// <summary>
/// Draws one stream's chart: readings, the filtered mean with its 95% band, the smoothed line, the latest forecasts
/// with their 95% predictive band, and anomaly markers. The same views as the dashboard's stream page.
/// </summary>
internal static class StreamPlotter
{
    /// <summary>The two-sided 95% normal quantile used for every band.</summary>
    public const double BandZ = 1.959963984540054;

    public static readonly Color ObservationColor = Color.FromHex("#7f7f7f");
    public static readonly Color FilteredColor = Color.FromHex("#1f77b4");
    public static readonly Color SmoothedColor = Color.FromHex("#2ca02c");
    public static readonly Color ForecastColor = Color.FromHex("#ff7f0e");
    public static readonly Color AnomalyColor = Color.FromHex("#d62728");

    /// <summary>Fills <paramref name="plot"/> with the chart of component <paramref name="component"/> of <paramref name="series"/>.</summary>
    /// <param name="plot">The chart to fill.</param>
    /// <param name="series">The stream's records.</param>
    /// <param name="component">The observed component drawn.</param>
    /// <param name="dashes">
    /// Draw the forecast line dashed. Skia's SVG canvas has no dashes (path effects): it drew the line solid and wrote
    /// "Unsupported path effect in addPaint." to stderr, without a line break, once per segment, so SVG output asks for
    /// a solid line; the orange colour and the markers still set it apart.
    /// </param>
    public static void Draw(Plot plot, StreamSeries series, int component, bool dashes = true)
    {
        var x = series.TimeIsDate ? (Func<double, double>)ToOADate : t => t;

        var filtered = Line(series.Filtered, component, x);
        Band(plot, filtered, FilteredColor.WithAlpha(0.18), series.FilteredIsProjected ? "filtered 95% band" : "one-step 95% band");

        var obs = Points(series.Observations, component, x);
        if (obs.Xs.Length > 0)
        {
            var s = plot.Add.ScatterPoints(obs.Xs, obs.Ys, ObservationColor);
            s.MarkerSize = 3;
            s.LegendText = "observations";
        }

        if (filtered.Xs.Length > 0)
        {
            var line = plot.Add.ScatterLine(filtered.Xs, filtered.Mean, FilteredColor);
            line.LineWidth = 1.5f;
            line.LegendText = series.FilteredIsProjected ? "filtered mean" : "one-step prediction";
        }

        var smoothed = Line(series.Smoothed, component, x);
        if (smoothed.Xs.Length > 0)
        {
            var line = plot.Add.ScatterLine(smoothed.Xs, smoothed.Mean, SmoothedColor);
            line.LineWidth = 1.5f;
            line.LegendText = series.Lag > 0 ? $"smoothed (lag {series.Lag})" : "smoothed (fixed interval)";
        }

        var forecast = Line(series.LatestForecasts(), component, x);
        if (forecast.Xs.Length > 0)
        {
            Band(plot, forecast, ForecastColor.WithAlpha(0.2), "forecast 95% band");
            var line = plot.Add.Scatter(forecast.Xs, forecast.Mean, ForecastColor);
            line.LineWidth = 1.5f;
            line.LinePattern = dashes ? LinePattern.Dashed : LinePattern.Solid;
            line.MarkerSize = 4;
            line.LegendText = $"forecast 1..{forecast.Xs.Length} (95%)";
        }

        var anomalies = series.Anomalies
            .Select(a => (X: x(a.Time), Y: a.MarkerValue(component)))
            .Where(a => double.IsFinite(a.Y))
            .ToArray();
        if (anomalies.Length > 0)
        {
            var s = plot.Add.ScatterPoints(anomalies.Select(a => a.X).ToArray(), anomalies.Select(a => a.Y).ToArray(), AnomalyColor);
            s.MarkerShape = MarkerShape.OpenCircle;
            s.MarkerSize = 11;
            s.MarkerLineWidth = 2;
            s.LegendText = $"anomalies ({anomalies.Length})";
        }

        // Scale to the data, not the bands: a vague prior's first steps would otherwise flatten everything else.
        var ys = obs.Ys.Concat(filtered.Mean).Concat(smoothed.Mean).Concat(forecast.Mean).Concat(anomalies.Select(a => a.Y)).ToArray();
        if (ys.Length > 0)
        {
            // In halves: the span of readings of opposite signs near the largest double is not a double. A span wider
            // than half the largest double is cut to it around the middle (ScottPlot's limits need a finite span).
            var (low, high) = (ys.Min(), ys.Max());
            var halfRange = (high / 2) - (low / 2);
            var halfSpan = Math.Min(halfRange + Math.Max(halfRange * 0.16, Math.Max(Math.Abs(high), 1.0) * 1e-3), double.MaxValue / 4);
            var middle = (low / 2) + (high / 2);
            plot.Axes.SetLimitsY(middle - halfSpan, middle + halfSpan);
            if (!double.IsFinite(high - low))
            {
                // ScottPlot's autoscaler, which sets the time axis from all the data, refuses such a span: set it here.
                var xs = obs.Xs.Concat(filtered.Xs).Concat(smoothed.Xs).Concat(forecast.Xs).Concat(anomalies.Select(a => a.X)).ToArray();
                var (first, last) = (xs.Min(), xs.Max());
                var margin = Math.Max((last - first) * 0.03, Math.Max(Math.Abs(last), 1.0) * 1e-6);
                plot.Axes.SetLimitsX(first - margin, last + margin);
            }
        }

        // Readings far from 1 (a 1e300 outlier, values in the billions) would otherwise have every digit in their tick
        // labels, which then take the whole chart.
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = TickLabel };
        if (series.TimeIsDate)
        {
            var axis = plot.Axes.DateTimeTicksBottom();
            if (axis.TickGenerator is ScottPlot.TickGenerators.DateTimeAutomatic ticks)
            {
                ticks.LabelFormatter = t => t.TimeOfDay == TimeSpan.Zero
                    ? t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
                    : t.ToString(t.Second == 0 ? "HH:mm" : "HH:mm:ss", CultureInfo.InvariantCulture);
            }

            plot.XLabel("time (UTC)");
        }
        else
        {
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = TickLabel };
            plot.XLabel("time");
        }

        plot.YLabel(series.Components > 1 ? $"value[{component}]" : "value");
        plot.Title($"{series.Stream} · {series.Model}", size: 15);
        plot.Axes.Title.Label.Bold = false;
        plot.Legend.FontSize = 11;
        plot.Legend.Orientation = Orientation.Horizontal;
        plot.ShowLegend(Edge.Bottom);
    }

    /// <summary>
    /// A numeric tick label: ScottPlot's own below a billion in size and above a millionth, else in scientific notation
    /// with up to six significant digits.
    /// </summary>
    public static string TickLabel(double value)
    {
        var magnitude = Math.Abs(value);
        return magnitude >= 1e9 || (magnitude > 0 && magnitude < 1e-6)
            ? value.ToString("0.#####E+0", CultureInfo.InvariantCulture)
            : ScottPlot.TickGenerators.LabelFormatters.Numeric(value);
    }

    /// <summary>Epoch milliseconds to the OLE date ScottPlot's date axis expects.</summary>
    public static double ToOADate(double epochMilliseconds) =>
        DateTime.UnixEpoch.AddMilliseconds(epochMilliseconds).ToOADate();

    /// <summary>The finite points of component <paramref name="component"/> (missing readings are left out).</summary>
    public static (double[] Xs, double[] Ys) Points(IReadOnlyList<SeriesPoint> points, int component, Func<double, double> x)
    {
        var kept = points.Where(p => component < p.Mean.Length && double.IsFinite(p.Mean[component])).ToArray();
        return ([.. kept.Select(p => x(p.Time))], [.. kept.Select(p => p.Mean[component])]);
    }

    /// <summary>
    /// A line with its 95% band: mean ± <see cref="BandZ"/>·sd for component <paramref name="component"/>, in time
    /// order. Points without a finite mean are left out, and so are points whose sd is infinite: the one-step
    /// prediction of a diffuse prior has a mean of 0 (or any number) that the data have not yet determined, and drawing
    /// it pulled the line and the axis down to 0 at the start of every stream. Where the spread is unknown (NaN) the
    /// mean is drawn and the band bounds are NaN.
    /// </summary>
    public static (double[] Xs, double[] Mean, double[] Lower, double[] Upper) Line(IReadOnlyList<SeriesPoint> points, int component, Func<double, double> x)
    {
        var kept = points
            .Where(p => component < p.Mean.Length && double.IsFinite(p.Mean[component]))
            .Where(p => !(component < p.StandardDeviation.Length && double.IsInfinity(p.StandardDeviation[component])))
            .OrderBy(p => p.Time)
            .ToArray();
        double Spread(SeriesPoint p) => component < p.StandardDeviation.Length && double.IsFinite(p.StandardDeviation[component]) ? BandZ * p.StandardDeviation[component] : double.NaN;
        return (
            [.. kept.Select(p => x(p.Time))],
            [.. kept.Select(p => p.Mean[component])],
            [.. kept.Select(p => p.Mean[component] - Spread(p))],
            [.. kept.Select(p => p.Mean[component] + Spread(p))]);
    }

    /// <summary>The index ranges [start, end) over which a band's bounds are finite.</summary>
    public static IEnumerable<(int Start, int End)> FiniteRuns(double[] lower)
    {
        var start = -1;
        for (var i = 0; i <= lower.Length; i++)
        {
            var finite = i < lower.Length && double.IsFinite(lower[i]);
            if (finite && start < 0)
            {
                start = i;
            }
            else if (!finite && start >= 0)
            {
                yield return (start, i);
                start = -1;
            }
        }
    }

    private static void Band(Plot plot, (double[] Xs, double[] Mean, double[] Lower, double[] Upper) line, Color color, string legend)
    {
        var first = true;
        foreach (var (start, end) in FiniteRuns(line.Lower))
        {
            var band = plot.Add.FillY(line.Xs[start..end], line.Lower[start..end], line.Upper[start..end]);
            band.FillColor = color;
            band.LineWidth = 0;
            if (first)
            {
                band.LegendText = legend;
                first = false;
            }
        }
    }
}
