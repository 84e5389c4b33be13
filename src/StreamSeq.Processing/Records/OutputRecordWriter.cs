using System.Buffers;
using System.Text.Json;
using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Processing.Records;

/// <summary>
/// Writes the output record contract as compact UTF-8 JSON into a reusable buffer. The CLI's JSON Lines and the
/// worker's Kafka values are produced by this one writer, so they are byte-identical.
/// </summary>
/// <remarks>
/// Covariances are nested arrays (rows). Numbers use the shortest round-trip form, so doubles survive a round
/// trip exactly. Non-finite numbers (an exact diffuse prior's infinite variance) are written as the strings
/// <c>"Infinity"</c>, <c>"-Infinity"</c> and <c>"NaN"</c>. One instance per thread.
/// </remarks>
public sealed class OutputRecordWriter : IDisposable
{
    private readonly ArrayBufferWriter<byte> buffer = new(4096);
    private readonly Utf8JsonWriter json;
    private readonly char[] timeText = new char[40];

    /// <summary>Creates a writer.</summary>
    public OutputRecordWriter()
    {
        var options = JsonOptions;
        options.SkipValidation = true;
        json = new Utf8JsonWriter(buffer, options);
    }

    /// <summary>
    /// The JSON options of every record StreamSeq writes for people and programs to read (outputs, dead letters,
    /// learned parameters, alert payloads): text is written as itself, so a stream named <c>capteur-température</c>
    /// or <c>O'Brien &lt;pump&gt;</c> appears as written and a search for it finds it. Only what JSON itself requires is
    /// escaped (quotes, backslashes, control characters), plus the bidirectional controls that would make a line
    /// display in another order than it holds (<see cref="TerminalSafeText"/>), so a record printed on a terminal shows
    /// what it holds. The default encoder also escaped every non-ASCII letter and the characters HTML gives meaning to,
    /// which only matters when JSON is pasted into an HTML page.
    /// </summary>
    public static JsonWriterOptions JsonOptions { get; } = new() { Encoder = TerminalSafeJsonEncoder.Instance };

    /// <inheritdoc />
    public void Dispose() => json.Dispose();

    /// <summary>The last record written.</summary>
    public ReadOnlySpan<byte> Written => buffer.WrittenSpan;

    /// <summary>Writes a <c>filtered</c> record.</summary>
    public ReadOnlySpan<byte> WriteFiltered(ReadOnlySpan<char> stream, RecordTime time, string model, Estimate estimate)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        var info = estimate.Info;
        var n = info.StateDimension;
        var m = info.ObservationDimension;
        Begin("filtered", stream, time, model);
        Moments("predicted", estimate.PredictedMean, estimate.PredictedCovariance, n, info.HasStateCovariance);
        Moments("observation", estimate.ObservationMean, estimate.ObservationCovariance, m, true);
        Moments("state", estimate.StateMean, estimate.StateCovariance, n, info.HasStateCovariance);
        json.WritePropertyName("logLik"u8);
        NumberOrNull(estimate.LogLikelihood);
        json.WritePropertyName("nis"u8);
        NumberOrNull(estimate.NormalizedInnovationSquared);
        Extras(info.Extras, estimate.Extras);
        if (info.Parameters.Count > 0)
        {
            Parameters(info.Parameters, estimate.Parameters, estimate.ParameterDeviations);
        }

        if (estimate.Flags != EstimateFlags.None)
        {
            json.WritePropertyName("health"u8);
            json.WriteStartArray();
            foreach (var flag in FlagNames)
            {
                if ((estimate.Flags & flag.Flag) != 0)
                {
                    json.WriteStringValue(flag.Name);
                }
            }

            json.WriteEndArray();
        }

        return End();
    }

    /// <summary>Writes a <c>smoothed</c> record.</summary>
    /// <param name="stream">Stream id.</param>
    /// <param name="time">Time of the smoothed step.</param>
    /// <param name="model">Model name.</param>
    /// <param name="method"><c>fixed-lag</c> or <c>fixed-interval</c>.</param>
    /// <param name="lag">Number of later observations used.</param>
    /// <param name="mean">Smoothed mean.</param>
    /// <param name="covariance">Smoothed covariance (row-major).</param>
    /// <param name="hasCovariance">False for deterministic states.</param>
    /// <param name="extraFields">The family's smoothed extras (<see cref="EstimatorInfo.SmoothedExtras"/>), if any.</param>
    /// <param name="extras">Their values.</param>
    public ReadOnlySpan<byte> WriteSmoothed(ReadOnlySpan<char> stream, RecordTime time, string model, string method, int lag, ReadOnlySpan<double> mean, ReadOnlySpan<double> covariance, bool hasCovariance = true, IReadOnlyList<ExtraField>? extraFields = null, ReadOnlySpan<double> extras = default)
    {
        Begin("smoothed", stream, time, model);
        json.WriteString("method"u8, method);
        json.WriteNumber("lag"u8, lag);
        Moments("state", mean, covariance, mean.Length, hasCovariance);
        if (extraFields is not null)
        {
            Extras(extraFields, extras);
        }

        return End();
    }

    /// <summary>Writes family extras as named fields: a number, or an array for multi-valued extras.</summary>
    private void Extras(IReadOnlyList<ExtraField> fields, ReadOnlySpan<double> values)
    {
        // Indexed rather than foreach: enumerating an IReadOnlyList boxes its enumerator, an allocation per record.
        var offset = 0;
        for (var f = 0; f < fields.Count; f++)
        {
            var extra = fields[f];
            json.WritePropertyName(extra.Name);
            if (extra.Length == 1)
            {
                Number(values[offset], extra.IsInteger);
            }
            else
            {
                json.WriteStartArray();
                for (var i = 0; i < extra.Length; i++)
                {
                    Number(values[offset + i], extra.IsInteger);
                }

                json.WriteEndArray();
            }

            offset += extra.Length;
        }
    }

    /// <summary>Writes the learned parameters: <c>"parameters": {"name": {"value": v, "sd": s}, ...}</c>, each value a
    /// number or a matrix as its spec field is, standard deviations null where the method gives none.</summary>
    private void Parameters(IReadOnlyList<LearnedParameter> parameters, ReadOnlySpan<double> values, ReadOnlySpan<double> deviations)
    {
        json.WritePropertyName("parameters"u8);
        json.WriteStartObject();
        var offset = 0;
        for (var p = 0; p < parameters.Count; p++)
        {
            var parameter = parameters[p];
            json.WritePropertyName(parameter.Name);
            json.WriteStartObject();
            json.WritePropertyName("value"u8);
            Learned(parameter, values.Slice(offset, parameter.Length), false);
            json.WritePropertyName("sd"u8);
            Learned(parameter, deviations.Slice(offset, parameter.Length), true);
            json.WriteEndObject();
            offset += parameter.Length;
        }

        json.WriteEndObject();
    }

    private void Learned(LearnedParameter parameter, ReadOnlySpan<double> values, bool nullable)
    {
        if (!parameter.IsMatrix)
        {
            NumberOr(values[0], nullable);
            return;
        }

        json.WriteStartArray();
        for (var i = 0; i < parameter.Rows; i++)
        {
            json.WriteStartArray();
            for (var j = 0; j < parameter.Columns; j++)
            {
                NumberOr(values[(i * parameter.Columns) + j], nullable);
            }

            json.WriteEndArray();
        }

        json.WriteEndArray();
    }

    private void NumberOr(double value, bool nullable)
    {
        if (nullable)
        {
            NumberOrNull(value);
        }
        else
        {
            Number(value, false);
        }
    }

    /// <summary>Writes a <c>forecast</c> record for horizon <paramref name="horizon"/>.</summary>
    public ReadOnlySpan<byte> WriteForecast(ReadOnlySpan<char> stream, RecordTime time, RecordTime madeAt, string model, int horizon, Forecast forecast)
    {
        ArgumentNullException.ThrowIfNull(forecast);
        Begin("forecast", stream, time, model);
        json.WritePropertyName("madeAt"u8);
        Time(madeAt);
        json.WriteNumber("horizon"u8, horizon);
        var info = forecast.Info;
        Moments("state", forecast.StateMeanAt(horizon), forecast.StateCovarianceAt(horizon), info.StateDimension, info.HasStateCovariance);
        Moments("observation", forecast.ObservationMeanAt(horizon), forecast.ObservationCovarianceAt(horizon), info.ObservationDimension, true);
        return End();
    }

    /// <summary>Writes an <c>anomaly</c> record.</summary>
    public ReadOnlySpan<byte> WriteAnomaly(ReadOnlySpan<char> stream, RecordTime time, string model, string rule, double score, double threshold, Estimate estimate, ReadOnlySpan<double> observed)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        Begin("anomaly", stream, time, model);
        json.WriteString("rule"u8, rule);
        json.WritePropertyName("score"u8);
        NumberOrNull(score);
        json.WritePropertyName("threshold"u8);
        NumberOrNull(threshold);
        json.WritePropertyName("values"u8);
        json.WriteStartArray();
        foreach (var v in observed)
        {
            NumberOrNull(v);
        }

        json.WriteEndArray();
        json.WritePropertyName("expected"u8);
        json.WriteStartArray();
        foreach (var v in estimate.ObservationMean)
        {
            Number(v, false);
        }

        json.WriteEndArray();
        json.WritePropertyName("logLik"u8);
        NumberOrNull(estimate.LogLikelihood);
        json.WritePropertyName("nis"u8);
        NumberOrNull(estimate.NormalizedInnovationSquared);
        return End();
    }

    private static readonly (EstimateFlags Flag, string Name)[] FlagNames =
    [
        (EstimateFlags.Repaired, "repaired"),
        (EstimateFlags.Reinitialized, "reinitialized"),
        (EstimateFlags.Resampled, "resampled"),
        (EstimateFlags.Diffuse, "diffuse"),
        (EstimateFlags.ObservationSkipped, "observation-skipped"),
        (EstimateFlags.DiffuseFallback, "diffuse-fallback"),
        (EstimateFlags.OutlierRejected, "outlier-rejected"),
    ];

    private void Begin(string type, ReadOnlySpan<char> stream, RecordTime time, string model)
    {
        buffer.ResetWrittenCount();
        json.Reset(buffer);
        json.WriteStartObject();
        json.WriteString("type"u8, type);
        json.WriteString("stream"u8, stream);
        json.WritePropertyName("time"u8);
        Time(time);
        json.WriteString("model"u8, model);
    }

    private ReadOnlySpan<byte> End()
    {
        json.WriteEndObject();
        json.Flush();
        return buffer.WrittenSpan;
    }

    private void Time(RecordTime time)
    {
        if (time.Format == TimeFormat.Iso8601)
        {
            var n = time.FormatIso(timeText);
            json.WriteStringValue(timeText.AsSpan(0, n));
        }
        else
        {
            Number(time.Value, false);
        }
    }

    private void Moments(string name, ReadOnlySpan<double> mean, ReadOnlySpan<double> cov, int dim, bool withCovariance)
    {
        json.WritePropertyName(name);
        json.WriteStartObject();
        json.WritePropertyName("mean"u8);
        json.WriteStartArray();
        for (var i = 0; i < dim; i++)
        {
            Number(mean[i], false);
        }

        json.WriteEndArray();
        if (withCovariance)
        {
            json.WritePropertyName("cov"u8);
            json.WriteStartArray();
            for (var i = 0; i < dim; i++)
            {
                json.WriteStartArray();
                for (var j = 0; j < dim; j++)
                {
                    Number(cov[(i * dim) + j], false);
                }

                json.WriteEndArray();
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    private void NumberOrNull(double v)
    {
        if (double.IsNaN(v))
        {
            json.WriteNullValue();
        }
        else
        {
            Number(v, false);
        }
    }

    private void Number(double v, bool integer)
    {
        if (double.IsFinite(v))
        {
            if (integer)
            {
                json.WriteNumberValue((long)v);
            }
            else
            {
                json.WriteNumberValue(v);
            }
        }
        else
        {
            json.WriteStringValue(double.IsNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
        }
    }

    /// <summary>Reads back a non-finite number as records write it: the string <c>"Infinity"</c>, <c>"-Infinity"</c> or <c>"NaN"</c>.</summary>
    internal static bool TryReadNonFinite(JsonElement value, out double number)
    {
        var isString = value.ValueKind == JsonValueKind.String;
        if (isString && value.ValueEquals("Infinity"))
        {
            number = double.PositiveInfinity;
        }
        else if (isString && value.ValueEquals("-Infinity"))
        {
            number = double.NegativeInfinity;
        }
        else if (isString && value.ValueEquals("NaN"))
        {
            number = double.NaN;
        }
        else
        {
            number = 0.0;
            return false;
        }

        return true;
    }
}
