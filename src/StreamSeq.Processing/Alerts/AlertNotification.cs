using System.Globalization;
using System.Text.Json;
using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.Alerts;

/// <summary>
/// One anomaly alert on its way to a notification sink: what the <c>anomaly</c> output record says, and when the
/// worker emitted it.
/// </summary>
/// <param name="Stream">The stream id.</param>
/// <param name="Model">The model that raised it.</param>
/// <param name="Rule">The anomaly rule's name.</param>
/// <param name="Score">The rule's score (NaN when the record had none).</param>
/// <param name="Threshold">The rule's threshold (NaN when the record had none).</param>
/// <param name="Time">The reading's time as the record writes it (JSON text: an ISO-8601 string or a number).</param>
/// <param name="Values">The reading (JSON array text).</param>
/// <param name="Expected">The predicted mean of the reading (JSON array text).</param>
/// <param name="EmittedAt">Wall-clock time at which the worker emitted the alert.</param>
public sealed record AlertNotification(
    string Stream,
    string Model,
    string Rule,
    double Score,
    double Threshold,
    string Time,
    string Values,
    string Expected,
    DateTimeOffset EmittedAt)
{
    /// <summary>Reads an <c>anomaly</c> output record; false for any other record or a malformed one.</summary>
    public static bool TryParse(ReadOnlySpan<byte> record, DateTimeOffset emittedAt, out AlertNotification? alert)
    {
        alert = null;
        try
        {
            var reader = new Utf8JsonReader(record);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "anomaly"
                || Text(root, "stream") is not { } stream || Text(root, "model") is not { } model || Text(root, "rule") is not { } rule
                || !root.TryGetProperty("time", out var time))
            {
                return false;
            }

            alert = new AlertNotification(
                stream,
                model,
                rule,
                Number(root, "score"),
                Number(root, "threshold"),
                time.ValueKind == JsonValueKind.String ? time.GetString()! : time.GetRawText(),
                root.TryGetProperty("values", out var values) ? values.GetRawText() : "[]",
                root.TryGetProperty("expected", out var expected) ? expected.GetRawText() : "[]",
                emittedAt);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>A number as annotations write it: shortest round-trip form, or <c>NaN</c>.</summary>
    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>A number, or one of the strings records write for non-finite numbers (an infinite NIS scores "Infinity").</summary>
    private static double Number(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var value) ? double.NaN
        : value.ValueKind == JsonValueKind.Number ? value.GetDouble()
        : OutputRecordWriter.TryReadNonFinite(value, out var special) ? special
        : double.NaN;
}
