using System.Text;
using StreamSeq.Cli.Io;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.Views;

namespace StreamSeq.Cli.Plotting;

/// <summary>Gathers per-stream series from a run's output records (JSON Lines) and, optionally, its observation file.</summary>
internal static class PlotDataReader
{
    /// <summary>Reads output records; streams come back in order of first appearance. Errors name the file and line.</summary>
    /// <param name="path">The output of <c>streamseq run</c>.</param>
    /// <param name="projection">Maps model names to their observation projection (null: no projected lines).</param>
    /// <param name="streams">Streams to keep (empty: all).</param>
    public static List<StreamSeries> ReadOutputs(string path, Func<string, ObservationProjection?> projection, IReadOnlyCollection<string> streams)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(null, path);
        }

        var reader = new ChartRecordReader(projection, numericTimesAreDates: false);
        var byStream = new Dictionary<string, StreamSeries>(StringComparer.Ordinal);
        var order = new List<StreamSeries>();
        var fixedLag = new HashSet<string>(StringComparer.Ordinal);
        var fixedInterval = new Dictionary<string, List<SeriesPoint>>(StringComparer.Ordinal);
        var name = Path.GetFileName(path);
        long line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            ChartRecord record;
            try
            {
                record = reader.Read(Encoding.UTF8.GetBytes(text));
            }
            catch (FormatException e)
            {
                throw new FormatException($"{name}:{line}: {e.Message}", e);
            }

            if (streams.Count > 0 && !streams.Contains(record.Stream))
            {
                continue;
            }

            if (!byStream.TryGetValue(record.Stream, out var series))
            {
                series = new StreamSeries(record.Stream) { Model = record.Model, TimeIsDate = record.TimeIsDate };
                byStream[record.Stream] = series;
                order.Add(series);
            }

            switch (record.Kind)
            {
                case OutputKind.Filtered when record.Mean is not null:
                    series.Filtered.Add(new SeriesPoint(record.Time, record.Mean, record.StandardDeviation!));
                    series.Components = Math.Max(series.Components, record.Mean.Length);
                    break;
                case OutputKind.Filtered when record.PredictiveMean is not null:
                    series.FilteredIsProjected = false;
                    series.Filtered.Add(new SeriesPoint(record.Time, record.PredictiveMean, record.PredictiveStandardDeviation!));
                    series.Components = Math.Max(series.Components, record.PredictiveMean.Length);
                    break;
                case OutputKind.Smoothed when record.Mean is not null && record.Method == "fixed-interval":
                    if (!fixedInterval.TryGetValue(record.Stream, out var list))
                    {
                        fixedInterval[record.Stream] = list = [];
                    }

                    list.Add(new SeriesPoint(record.Time, record.Mean, record.StandardDeviation!));
                    break;
                case OutputKind.Smoothed when record.Mean is not null:
                    fixedLag.Add(record.Stream);
                    series.Lag = record.Lag;
                    series.Smoothed.Add(new SeriesPoint(record.Time, record.Mean, record.StandardDeviation!));
                    break;
                case OutputKind.Forecast when record.Mean is not null:
                    series.Forecasts.Add((record.MadeAt, record.Horizon, new SeriesPoint(record.Time, record.Mean, record.StandardDeviation!)));
                    break;
                case OutputKind.Anomaly:
                    series.Anomalies.Add(new AnomalyPoint(record.Time, record.Values ?? [], record.PredictiveMean ?? [], record.Rule ?? "?", record.Score));
                    break;
                default:
                    break;
            }
        }

        // A run with --smooth and no --lag has only fixed-interval records: draw those as the smoothed line.
        foreach (var (stream, points) in fixedInterval)
        {
            if (!fixedLag.Contains(stream))
            {
                var series = byStream[stream];
                series.Smoothed.AddRange(points.OrderBy(p => p.Time));
                series.Lag = -1;
            }
        }

        return order;
    }

    /// <summary>
    /// Adds readings from the run's observation file (CSV or JSON Lines) to the matching series. Malformed rows (which
    /// the run rejected too) are skipped; the count and the first message come back for a warning.
    /// </summary>
    public static (int Skipped, string? FirstError) ReadObservations(string path, IReadOnlyList<StreamSeries> series)
    {
        var skipped = 0;
        string? firstError = null;
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(null, path);
        }

        var byStream = series.ToDictionary(s => s.Stream, StringComparer.Ordinal);

        void Accept(in InputRecord record)
        {
            if (record.StreamId.IsEmpty || !byStream.TryGetValue(record.StreamId.ToString(), out var target))
            {
                return;
            }

            var values = record.Values.ToArray();
            target.Observations.Add(new SeriesPoint(record.Time.Value, values, new double[values.Length]));
            target.Components = Math.Max(target.Components, values.Length);
        }

        ObservationFiles.ForEachRow(path, new InputRecordDecoder(numericTimeFormat: TimeFormat.ModelUnits), Accept, message =>
        {
            skipped++;
            firstError ??= message;
        });

        foreach (var s in series)
        {
            s.Observations.Sort((a, b) => a.Time.CompareTo(b.Time));
        }

        return (skipped, firstError);
    }
}
