using System.Globalization;
using System.Text.Json;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.Views;

/// <summary>
/// Reads output records (the JSON of <see cref="OutputRecordWriter"/>) into <see cref="ChartRecord"/>s for plots and
/// the dashboard. States are mapped into observation space with the model's <see cref="ObservationProjection"/>.
/// </summary>
/// <remarks>Not for the processing hot path: it allocates per record. One instance may be shared across threads.</remarks>
public sealed class ChartRecordReader
{
    private static readonly HashSet<string> KnownFields = new(StringComparer.Ordinal)
    {
        "type", "stream", "time", "model", "predicted", "observation", "state", "logLik", "nis", "health", "parameters",
        "method", "lag", "madeAt", "horizon", "rule", "score", "threshold", "values", "expected",
    };

    private readonly Func<string, ObservationProjection?> projections;
    private readonly bool numericTimesAreDates;

    /// <summary>Creates a reader.</summary>
    /// <param name="projections">The projection for a model name (null: draw no state lines for that model).</param>
    /// <param name="numericTimesAreDates">
    /// True when numeric times are epoch milliseconds (Kafka records); false when they are model time units (files).
    /// ISO-8601 times are always dates.
    /// </param>
    public ChartRecordReader(Func<string, ObservationProjection?> projections, bool numericTimesAreDates)
    {
        ArgumentNullException.ThrowIfNull(projections);
        this.projections = projections;
        this.numericTimesAreDates = numericTimesAreDates;
    }

    /// <summary>Reads one record; throws <see cref="FormatException"/> naming the field when it is not an output record.</summary>
    public ChartRecord Read(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            throw new FormatException($"not JSON{JsonErrors.Describe(e)}", e);
        }

        using (document)
        {
            return Read(document.RootElement);
        }
    }

    /// <summary>Reads one parsed record; throws <see cref="FormatException"/> naming the field when it is not an output record.</summary>
    public ChartRecord Read(JsonElement record)
    {
        try
        {
            return ReadRecord(record);
        }
        catch (InvalidOperationException e) when (Utf8Text.FirstNonUnicode(record) is { } where)
        {
            // A string or field name that is not Unicode text (an unpaired surrogate escape such as "\ud800", which no
            // .NET string holds) makes the JSON library throw wherever it is compared or read: before, that escaped,
            // stopping plot as "a bug" and the dashboard's feed at that record, instead of being one unreadable record.
            throw new FormatException($"{where} is not Unicode text (an unpaired surrogate escape such as \\ud800).", e);
        }
    }

    private ChartRecord ReadRecord(JsonElement record)
    {
        if (record.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("an output record must be a JSON object.");
        }

        var type = RequiredString(record, "type");
        var kind = type switch
        {
            "filtered" => OutputKind.Filtered,
            "smoothed" => OutputKind.Smoothed,
            "forecast" => OutputKind.Forecast,
            "anomaly" => OutputKind.Anomaly,
            _ => throw new FormatException($"type: unknown record type '{type}' (expected filtered, smoothed, forecast or anomaly)."),
        };
        var stream = RequiredString(record, "stream");
        var model = RequiredString(record, "model");
        if (!record.TryGetProperty("time", out var timeElement))
        {
            throw new FormatException("time: missing.");
        }

        var (time, isDate) = ReadTime(timeElement, "time");
        return kind switch
        {
            OutputKind.Filtered => Filtered(record, stream, model, time, isDate),
            OutputKind.Smoothed => Smoothed(record, stream, model, time, isDate),
            OutputKind.Forecast => Forecast(record, stream, model, time, isDate),
            _ => Anomaly(record, stream, model, time, isDate),
        };
    }

    private (double Time, bool IsDate) ReadTime(JsonElement element, string field)
    {
        if (element.ValueKind == JsonValueKind.Number)
        {
            return (element.GetDouble(), numericTimesAreDates);
        }

        if (element.ValueKind == JsonValueKind.String && RecordTime.TryParseIso(element.GetString(), out var t))
        {
            return (t.Value, true);
        }

        throw new FormatException($"{field}: expected a number or an ISO-8601 date-time, got {element.GetRawText()}.");
    }

    private ChartRecord Filtered(JsonElement record, string stream, string model, double time, bool isDate)
    {
        var (mean, sd) = ProjectState(record, model, "state");
        var (predMean, predSd) = Moments(record, "observation");
        if (sd is not null && sd.Any(v => !double.IsFinite(v)) && projections(model) is { } projection
            && record.TryGetProperty("observation", out var observation) && observation.TryGetProperty("cov", out var s))
        {
            // An unresolved diffuse state is written with infinite covariances; the signal's variance is still finite.
            var fallback = new double[projection.ObservationDimension];
            if (projection.FilteredVarianceFromPredictive(Matrix(s, projection.ObservationDimension, "observation.cov"), fallback))
            {
                for (var i = 0; i < sd.Length; i++)
                {
                    sd[i] = double.IsFinite(sd[i]) ? sd[i] : Math.Sqrt(fallback[i]);
                }
            }
        }

        var extras = new Dictionary<string, double>(StringComparer.Ordinal);
        var health = new List<string>();
        var parameters = new List<(string, double, double)>();
        foreach (var p in record.EnumerateObject())
        {
            if (p.NameEquals("health") && p.Value.ValueKind == JsonValueKind.Array)
            {
                health.AddRange(p.Value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!));
            }
            else if (p.NameEquals("parameters") && p.Value.ValueKind == JsonValueKind.Object)
            {
                ReadParameters(p.Value, parameters);
            }
            else if (!KnownFields.Contains(p.Name) && p.Value.ValueKind == JsonValueKind.Number)
            {
                extras[p.Name] = p.Value.GetDouble();
            }
        }

        return new ChartRecord
        {
            Kind = OutputKind.Filtered,
            Stream = stream,
            Model = model,
            Time = time,
            TimeIsDate = isDate,
            Mean = mean,
            StandardDeviation = sd,
            PredictiveMean = predMean,
            PredictiveStandardDeviation = predSd,
            Nis = OptionalNumber(record, "nis"),
            LogLikelihood = OptionalNumber(record, "logLik"),
            Extras = extras,
            Health = health,
            Parameters = parameters,
        };
    }

    /// <summary>Flattens <c>parameters</c>: numbers as they are, a matrix's non-zero entries as <c>name[i][j]</c>.</summary>
    private static void ReadParameters(JsonElement parameters, List<(string, double, double)> target)
    {
        static double Value(JsonElement e) => e.ValueKind == JsonValueKind.Number ? e.GetDouble() : double.NaN;
        foreach (var p in parameters.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Object || !p.Value.TryGetProperty("value", out var value))
            {
                continue;
            }

            var sd = p.Value.TryGetProperty("sd", out var s) ? s : default;
            if (value.ValueKind == JsonValueKind.Number)
            {
                target.Add((p.Name, value.GetDouble(), sd.ValueKind == JsonValueKind.Number ? sd.GetDouble() : double.NaN));
                continue;
            }

            if (value.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            var i = 0;
            foreach (var row in value.EnumerateArray())
            {
                if (row.ValueKind != JsonValueKind.Array)
                {
                    i++;
                    continue;
                }

                var j = 0;
                foreach (var cell in row.EnumerateArray())
                {
                    var v = Value(cell);
                    if (v != 0.0)
                    {
                        var deviation = sd.ValueKind == JsonValueKind.Array && sd.GetArrayLength() > i && sd[i].ValueKind == JsonValueKind.Array && sd[i].GetArrayLength() > j ? Value(sd[i][j]) : double.NaN;
                        target.Add(($"{p.Name}[{i}][{j}]", v, deviation));
                    }

                    j++;
                }

                i++;
            }
        }
    }

    private ChartRecord Smoothed(JsonElement record, string stream, string model, double time, bool isDate)
    {
        var (mean, sd) = ProjectState(record, model, "state");
        return new ChartRecord
        {
            Kind = OutputKind.Smoothed,
            Stream = stream,
            Model = model,
            Time = time,
            TimeIsDate = isDate,
            Mean = mean,
            StandardDeviation = sd,
            Lag = record.TryGetProperty("lag", out var lag) && lag.ValueKind == JsonValueKind.Number ? lag.GetInt32() : 0,
            Method = record.TryGetProperty("method", out var method) && method.ValueKind == JsonValueKind.String ? method.GetString() : "fixed-lag",
        };
    }

    private ChartRecord Forecast(JsonElement record, string stream, string model, double time, bool isDate)
    {
        var (mean, sd) = Moments(record, "observation");
        var madeAt = record.TryGetProperty("madeAt", out var m) ? ReadTime(m, "madeAt").Time : double.NaN;
        if (!record.TryGetProperty("horizon", out var h) || h.ValueKind != JsonValueKind.Number)
        {
            throw new FormatException("horizon: missing or not a number.");
        }

        return new ChartRecord
        {
            Kind = OutputKind.Forecast,
            Stream = stream,
            Model = model,
            Time = time,
            TimeIsDate = isDate,
            Mean = mean,
            StandardDeviation = sd,
            PredictiveMean = mean,
            PredictiveStandardDeviation = sd,
            Horizon = h.GetInt32(),
            MadeAt = madeAt,
        };
    }

    private static ChartRecord Anomaly(JsonElement record, string stream, string model, double time, bool isDate) => new()
    {
        Kind = OutputKind.Anomaly,
        Stream = stream,
        Model = model,
        Time = time,
        TimeIsDate = isDate,
        Values = record.TryGetProperty("values", out var v) ? Vector(v, "values") : null,
        PredictiveMean = record.TryGetProperty("expected", out var e) ? Vector(e, "expected") : null,
        Rule = record.TryGetProperty("rule", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null,
        Score = OptionalNumber(record, "score"),
        Threshold = OptionalNumber(record, "threshold"),
        Nis = OptionalNumber(record, "nis"),
        LogLikelihood = OptionalNumber(record, "logLik"),
    };

    private (double[]? Mean, double[]? Sd) ProjectState(JsonElement record, string model, string field)
    {
        var projection = projections(model);
        if (projection is null || !record.TryGetProperty(field, out var state))
        {
            return (null, null);
        }

        var mean = Vector(Required(state, "mean", field), $"{field}.mean");
        if (mean.Length != projection.StateDimension)
        {
            throw new FormatException($"{field}.mean: has {mean.Length} values but model '{model}' has a state of {projection.StateDimension}.");
        }

        var cov = state.TryGetProperty("cov", out var c) ? Matrix(c, mean.Length, $"{field}.cov") : [];
        var m = projection.ObservationDimension;
        var signal = new double[m];
        var variance = new double[m];
        projection.Project(mean, cov, signal, variance);
        return (signal, [.. variance.Select(Math.Sqrt)]);
    }

    private static (double[]? Mean, double[]? Sd) Moments(JsonElement record, string field)
    {
        if (!record.TryGetProperty(field, out var moments))
        {
            return (null, null);
        }

        var mean = Vector(Required(moments, "mean", field), $"{field}.mean");
        if (!moments.TryGetProperty("cov", out var c))
        {
            return (mean, new double[mean.Length]);
        }

        var cov = Matrix(c, mean.Length, $"{field}.cov");
        var sd = new double[mean.Length];
        for (var i = 0; i < sd.Length; i++)
        {
            sd[i] = Math.Sqrt(cov[(i * mean.Length) + i]);
        }

        return (mean, sd);
    }

    private static JsonElement Required(JsonElement parent, string name, string path) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out var value) ? value : throw new FormatException($"{path}.{name}: missing.");

    private static string RequiredString(JsonElement record, string name) =>
        record.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : throw new FormatException($"{name}: missing or not a string.");

    private static double OptionalNumber(JsonElement record, string name) =>
        record.TryGetProperty(name, out var value) ? Number(value, name) : double.NaN;

    private static double Number(JsonElement value, string path) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.Null => double.NaN,
        JsonValueKind.String when OutputRecordWriter.TryReadNonFinite(value, out var special) => special,
        JsonValueKind.String => double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : throw new FormatException($"{path}: '{value.GetString()}' is not a number."),
        _ => throw new FormatException($"{path}: expected a number, got {value.ValueKind}."),
    };

    private static double[] Vector(JsonElement array, string path)
    {
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"{path}: expected an array.");
        }

        var result = new double[array.GetArrayLength()];
        var i = 0;
        foreach (var v in array.EnumerateArray())
        {
            result[i] = Number(v, $"{path}[{i}]");
            i++;
        }

        return result;
    }

    private static double[] Matrix(JsonElement rows, int n, string path)
    {
        if (rows.ValueKind != JsonValueKind.Array || rows.GetArrayLength() != n)
        {
            throw new FormatException($"{path}: expected {n} rows.");
        }

        var result = new double[n * n];
        var i = 0;
        foreach (var row in rows.EnumerateArray())
        {
            var values = Vector(row, $"{path}[{i}]");
            if (values.Length != n)
            {
                throw new FormatException($"{path}[{i}]: expected {n} values, got {values.Length}.");
            }

            values.CopyTo(result, i * n);
            i++;
        }

        return result;
    }
}
