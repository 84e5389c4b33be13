using System.Text.Json;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.Views;

namespace StreamSeq.Worker.Dashboard;

/// <summary>
/// What the dashboard knows about one stream: a bounded recent history of each series (for new page loads), the
/// latest forecasts, recent anomalies, health numbers for the stream list, and the browsers watching it.
/// Mutated only by the feed thread; read by request threads; every member locks.
/// </summary>
internal sealed class StreamView
{
    /// <summary>NIS values averaged for the health column.</summary>
    public const int NisWindow = 50;

    private readonly Lock gate = new();
    private readonly int history;
    private readonly double[] nis = new double[NisWindow];
    private readonly Dictionary<string, double> extras = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> healthCounts = new(StringComparer.Ordinal);
    private IReadOnlyList<(string Name, double Value, double StandardDeviation)> learned = [];
    private readonly Queue<AnomalyMark> anomalies = new();
    private readonly List<double[]> forecastFan = [];
    private DashboardClient[] clients = [];
    private DoubleRing? observations;
    private DoubleRing? filtered;
    private DoubleRing? smoothed;
    private double[] lastValues = [];
    private double lastTime = double.NaN;
    private double fanMadeAt = double.NaN;
    private int nisCount;
    private int nisNext;
    private long steps;
    private long anomalyCount;
    private double lastAnomalyTime = double.NaN;

    public StreamView(string id, int history, long now)
    {
        Id = id;
        this.history = history;
        LastUpdate = now;
    }

    public string Id { get; }

    public string Model { get; private set; } = string.Empty;

    public string Family { get; private set; } = string.Empty;

    public int Lag { get; private set; }

    public int Horizon { get; private set; }

    /// <summary>Observed components (0 until known).</summary>
    public int Components { get; private set; }

    /// <summary>True when the filtered line is the projected state; false when it is the one-step prediction.</summary>
    public bool Projected { get; private set; } = true;

    /// <summary>The input partition holding the stream (-1: not known), so that a revoked partition's streams leave.</summary>
    public int Partition { get; set; } = -1;

    /// <summary>Timestamp (<see cref="TimeProvider.GetTimestamp"/>) of the last update, for eviction.</summary>
    public long LastUpdate { get; private set; }

    public int ClientCount
    {
        get
        {
            lock (gate)
            {
                return clients.Length;
            }
        }
    }

    public long AnomalyCount
    {
        get
        {
            lock (gate)
            {
                return anomalyCount;
            }
        }
    }

    /// <summary>Sets the model facts when the stream's first output arrives.</summary>
    public void Describe(string model, string family, int lag, int horizon, int components, bool projected)
    {
        lock (gate)
        {
            Model = model;
            Family = family;
            Lag = lag;
            Horizon = horizon;
            Projected = projected;
            EnsureComponents(components);
        }
    }

    /// <summary>
    /// Takes what a restored state holds: the stream's steps, the time of its last reading and its anomalies, counted
    /// over all its owners; the next records count on from there. Its readings are not in the state (the list shows no
    /// last value until the next reading), nor its chart history.
    /// </summary>
    public void Restore(long restoredSteps, double restoredLastTime, long restoredAnomalies)
    {
        lock (gate)
        {
            steps = restoredSteps;
            anomalyCount = restoredAnomalies;
            if (!(restoredLastTime == lastTime))
            {
                lastTime = restoredLastTime;
                lastValues = [];
            }
        }
    }

    /// <summary>Takes the browsers off the view (it leaves the dashboard) and returns them.</summary>
    public DashboardClient[] DetachClients()
    {
        lock (gate)
        {
            var detached = clients;
            clients = [];
            return detached;
        }
    }

    public void AddClient(DashboardClient client)
    {
        lock (gate)
        {
            clients = [.. clients, client];
        }
    }

    public void RemoveClient(DashboardClient client)
    {
        lock (gate)
        {
            clients = [.. clients.Where(c => c != client)];
        }
    }

    /// <summary>A reading arrived (from the input tap).</summary>
    public void AddObservation(double time, ReadOnlySpan<double> values, long now)
    {
        DashboardClient[] watching;
        string? update = null;
        lock (gate)
        {
            LastUpdate = now;
            EnsureComponents(values.Length);
            Span<double> row = stackalloc double[1 + Components];
            row[0] = time;
            values[..Math.Min(values.Length, Components)].CopyTo(row[1..]);
            observations!.Add(row);
            if (!(time < lastTime))
            {
                lastTime = time;
                lastValues = values.ToArray();
            }

            watching = clients;
            if (watching.Length > 0)
            {
                var copy = values.ToArray();
                update = DashboardJson.Write(j =>
                {
                    j.WriteStartObject();
                    j.WriteString("k", "o");
                    DashboardJson.Number(j, "t", time);
                    DashboardJson.Array(j, "y", copy);
                    j.WriteEndObject();
                });
            }
        }

        Send(watching, update);
    }

    /// <summary>An output record arrived (from the output tap), already read into chart terms.</summary>
    public AnomalyMark? Apply(ChartRecord record, long now)
    {
        DashboardClient[] watching;
        string? update;
        AnomalyMark? mark = null;
        lock (gate)
        {
            LastUpdate = now;
            switch (record.Kind)
            {
                case OutputKind.Filtered:
                    steps++;
                    if (double.IsFinite(record.Nis))
                    {
                        nis[nisNext] = record.Nis;
                        nisNext = (nisNext + 1) % NisWindow;
                        nisCount = Math.Min(nisCount + 1, NisWindow);
                    }

                    foreach (var (k, v) in record.Extras)
                    {
                        extras[k] = v;
                    }

                    foreach (var h in record.Health)
                    {
                        healthCounts[h] = healthCounts.GetValueOrDefault(h) + 1;
                    }

                    if (record.Parameters.Count > 0)
                    {
                        learned = record.Parameters;
                    }

                    var line = record.Mean ?? record.PredictiveMean;
                    var spread = record.Mean is null ? record.PredictiveStandardDeviation : record.StandardDeviation;
                    if (record.Mean is null)
                    {
                        Projected = false;
                    }

                    AddBand(filtered!, record.Time, line, spread);
                    break;
                case OutputKind.Smoothed when record.Mean is not null && record.Method != "fixed-interval":
                    AddBand(smoothed!, record.Time, record.Mean, record.StandardDeviation);
                    break;
                case OutputKind.Forecast when record.Mean is not null:
                    if (record.MadeAt != fanMadeAt)
                    {
                        forecastFan.Clear();
                        fanMadeAt = record.MadeAt;
                    }

                    forecastFan.Add(Band(record.Time, record.Mean, record.StandardDeviation));
                    break;
                case OutputKind.Anomaly:
                    anomalyCount++;
                    lastAnomalyTime = record.Time;
                    mark = new AnomalyMark(Id, record.Time, record.Values ?? [], record.PredictiveMean ?? [], record.Rule ?? "?", record.Score, record.Threshold);
                    anomalies.Enqueue(mark);
                    while (anomalies.Count > Math.Max(50, history / 4))
                    {
                        anomalies.Dequeue();
                    }

                    break;
                default:
                    return null;
            }

            watching = clients;
            update = watching.Length == 0 ? null : DashboardJson.Write(j => WriteUpdate(j, record));
        }

        Send(watching, update);
        return mark;
    }

    /// <summary>The stream's row in the stream list.</summary>
    public void WriteSummary(Utf8JsonWriter json)
    {
        lock (gate)
        {
            WriteSummaryUnlocked(json);
        }
    }

    private void WriteSummaryUnlocked(Utf8JsonWriter json)
    {
        {
            json.WriteStartObject();
            json.WriteString("id", Id);
            json.WriteString("model", Model);
            json.WriteString("family", Family);
            DashboardJson.Number(json, "t", lastTime);
            DashboardJson.Array(json, "y", lastValues);
            json.WriteNumber("steps", steps);
            json.WriteNumber("anomalies", anomalyCount);
            DashboardJson.Number(json, "lastAnomaly", lastAnomalyTime);
            var mean = 0.0;
            for (var i = 0; i < nisCount; i++)
            {
                mean += nis[i];
            }

            DashboardJson.Number(json, "nis", nisCount == 0 ? double.NaN : mean / nisCount);
            json.WriteNumber("nisWindow", nisCount);
            json.WriteNumber("components", Components);
            json.WritePropertyName("extras");
            json.WriteStartObject();
            foreach (var (k, v) in extras)
            {
                DashboardJson.Number(json, k, v);
            }

            json.WriteEndObject();
            json.WritePropertyName("health");
            json.WriteStartObject();
            foreach (var (k, v) in healthCounts)
            {
                json.WriteNumber(k, v);
            }

            json.WriteEndObject();
            json.WritePropertyName("parameters");
            json.WriteStartArray();
            foreach (var (name, value, sd) in learned)
            {
                json.WriteStartObject();
                json.WriteString("name", name);
                DashboardJson.Number(json, "value", value);
                DashboardJson.Number(json, "sd", sd);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteNumber("watchers", clients.Length);
            json.WriteEndObject();
        }
    }

    /// <summary>Everything a newly opened stream page draws: the summary, the kept history and the latest forecasts.</summary>
    public void WriteHistory(Utf8JsonWriter json)
    {
        lock (gate)
        {
            json.WriteStartObject();
            json.WriteString("id", Id);
            json.WriteString("model", Model);
            json.WriteString("family", Family);
            json.WriteNumber("lag", Lag);
            json.WriteNumber("horizon", Horizon);
            json.WriteNumber("components", Components);
            json.WriteBoolean("projected", Projected);
            json.WriteNumber("history", history);
            json.WritePropertyName("summary");
            WriteSummaryUnlocked(json);
            WriteRing(json, "observations", observations, band: false);
            WriteRing(json, "filtered", filtered, band: true);
            WriteRing(json, "smoothed", smoothed, band: true);
            json.WritePropertyName("forecast");
            json.WriteStartArray();
            foreach (var row in forecastFan)
            {
                WriteBandRow(json, row);
            }

            json.WriteEndArray();
            DashboardJson.Number(json, "forecastMadeAt", fanMadeAt);
            json.WritePropertyName("anomalies");
            json.WriteStartArray();
            foreach (var a in anomalies)
            {
                WriteAnomaly(json, a);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }
    }

    public static void WriteAnomaly(Utf8JsonWriter json, AnomalyMark a)
    {
        json.WriteStartObject();
        json.WriteString("stream", a.Stream);
        DashboardJson.Number(json, "t", a.Time);
        DashboardJson.Array(json, "y", a.Values);
        DashboardJson.Array(json, "expected", a.Expected);
        json.WriteString("rule", a.Rule);
        DashboardJson.Number(json, "score", a.Score);
        DashboardJson.Number(json, "threshold", a.Threshold);
        json.WriteEndObject();
    }

    private static void WriteUpdate(Utf8JsonWriter j, ChartRecord record)
    {
        j.WriteStartObject();
        switch (record.Kind)
        {
            case OutputKind.Filtered:
                j.WriteString("k", "f");
                DashboardJson.Number(j, "t", record.Time);
                WriteBandArrays(j, record.Mean ?? record.PredictiveMean, record.Mean is null ? record.PredictiveStandardDeviation : record.StandardDeviation);
                DashboardJson.Number(j, "nis", record.Nis);
                break;
            case OutputKind.Smoothed:
                j.WriteString("k", "s");
                DashboardJson.Number(j, "t", record.Time);
                WriteBandArrays(j, record.Mean, record.StandardDeviation);
                break;
            case OutputKind.Forecast:
                j.WriteString("k", "c");
                DashboardJson.Number(j, "t", record.Time);
                DashboardJson.Number(j, "at", record.MadeAt);
                j.WriteNumber("h", record.Horizon);
                WriteBandArrays(j, record.Mean, record.StandardDeviation);
                break;
            default:
                j.WriteString("k", "a");
                DashboardJson.Number(j, "t", record.Time);
                DashboardJson.Array(j, "y", record.Values ?? []);
                DashboardJson.Array(j, "expected", record.PredictiveMean ?? []);
                j.WriteString("rule", record.Rule ?? "?");
                DashboardJson.Number(j, "score", record.Score);
                DashboardJson.Number(j, "threshold", record.Threshold);
                break;
        }

        j.WriteEndObject();
    }

    private static void WriteBandArrays(Utf8JsonWriter j, double[]? mean, double[]? sd)
    {
        DashboardJson.Array(j, "m", mean ?? []);
        DashboardJson.Array(j, "s", sd ?? []);
    }

    private static void WriteRing(Utf8JsonWriter json, string name, DoubleRing? ring, bool band)
    {
        json.WritePropertyName(name);
        json.WriteStartArray();
        if (ring is not null)
        {
            for (var i = 0; i < ring.Count; i++)
            {
                var row = ring.Row(i);
                if (band)
                {
                    WriteBandRow(json, row);
                }
                else
                {
                    json.WriteStartObject();
                    DashboardJson.Number(json, "t", row[0]);
                    DashboardJson.Array(json, "y", row[1..]);
                    json.WriteEndObject();
                }
            }
        }

        json.WriteEndArray();
    }

    private static void WriteBandRow(Utf8JsonWriter json, ReadOnlySpan<double> row)
    {
        var m = (row.Length - 1) / 2;
        json.WriteStartObject();
        DashboardJson.Number(json, "t", row[0]);
        DashboardJson.Array(json, "m", row.Slice(1, m));
        DashboardJson.Array(json, "s", row.Slice(1 + m, m));
        json.WriteEndObject();
    }

    private void EnsureComponents(int m)
    {
        if (m <= Components && observations is not null)
        {
            return;
        }

        // The dimension is fixed per model; a first record that disagrees resets the (then tiny) history.
        Components = Math.Max(1, Math.Max(m, Components));
        observations = new DoubleRing(1 + Components, history);
        filtered = new DoubleRing(1 + (2 * Components), history);
        smoothed = new DoubleRing(1 + (2 * Components), history);
        forecastFan.Clear();
    }

    private void AddBand(DoubleRing ring, double time, double[]? mean, double[]? sd)
    {
        if (mean is null)
        {
            return;
        }

        ring.Add(Band(time, mean, sd));
    }

    private double[] Band(double time, double[] mean, double[]? sd)
    {
        var m = Components;
        var row = new double[1 + (2 * m)];
        row.AsSpan().Fill(double.NaN);
        row[0] = time;
        mean.AsSpan(0, Math.Min(m, mean.Length)).CopyTo(row.AsSpan(1));
        sd?.AsSpan(0, Math.Min(m, sd.Length)).CopyTo(row.AsSpan(1 + m));
        return row;
    }

    private static void Send(DashboardClient[] watching, string? update)
    {
        if (update is null)
        {
            return;
        }

        foreach (var c in watching)
        {
            c.Offer(update);
        }
    }
}
