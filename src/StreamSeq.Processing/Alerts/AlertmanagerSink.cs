using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.Alerts;

/// <summary>
/// Posts batches of alerts in Alertmanager's API v2 format (<c>POST /api/v2/alerts</c>, a JSON array of
/// <c>{labels, annotations, startsAt, endsAt, generatorURL}</c>). Labels: <c>alertname="StreamSeqAnomaly"</c>,
/// <c>stream</c>, <c>model</c>, <c>rule</c> and the configured extra labels, so Alertmanager merges repeated anomalies
/// of one stream and rule into one alert and groups and routes them like any other. Annotations carry the score,
/// threshold, reading time, values and expectation.
/// </summary>
/// <remarks>
/// A 2xx answer is delivery; 408, 429, 5xx, a connection failure or a time-out is transient (worth a retry); any other
/// answer is permanent (the receiver rejects the payload, and would again).
/// </remarks>
public sealed class AlertmanagerSink(HttpClient client, AlertmanagerSinkOptions options) : IAlertSink
{
    /// <summary>The <c>alertname</c> label of every alert.</summary>
    public const string AlertName = "StreamSeqAnomaly";

    /// <inheritdoc />
    public async Task SendAsync(IReadOnlyList<AlertNotification> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var content = new ByteArrayContent(Payload(batch, options));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        HttpResponseMessage response;
        try
        {
            response = await client.PostAsync(options.Url, content, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new AlertDeliveryException($"{options.Url}: {e.Message}", transient: true, e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AlertDeliveryException($"{options.Url}: no answer within {client.Timeout.TotalSeconds:0.###} s", transient: true, e);
        }

        using (response)
        {
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            var status = (int)response.StatusCode;
            var transient = status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
            throw new AlertDeliveryException($"{options.Url}: HTTP {status} {response.ReasonPhrase}", transient);
        }
    }

    /// <summary>The request body for a batch.</summary>
    public static byte[] Payload(IReadOnlyList<AlertNotification> batch, AlertmanagerSinkOptions options)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(options);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, OutputRecordWriter.JsonOptions))
        {
            json.WriteStartArray();
            foreach (var alert in batch)
            {
                json.WriteStartObject();
                json.WriteStartObject("labels");
                json.WriteString("alertname", AlertName);
                json.WriteString("stream", alert.Stream);
                json.WriteString("model", alert.Model);
                json.WriteString("rule", alert.Rule);
                foreach (var (name, value) in options.Labels)
                {
                    if (name is not ("alertname" or "stream" or "model" or "rule"))
                    {
                        json.WriteString(name, value);
                    }
                }

                json.WriteEndObject();
                json.WriteStartObject("annotations");
                json.WriteString("summary", $"Anomaly on stream {alert.Stream} ({alert.Rule}, model {alert.Model})");
                json.WriteString(
                    "description",
                    $"Rule {alert.Rule} scored {AlertNotification.Format(alert.Score)} against threshold {AlertNotification.Format(alert.Threshold)} at {alert.Time}: values {alert.Values}, expected {alert.Expected}.");
                json.WriteString("score", AlertNotification.Format(alert.Score));
                json.WriteString("threshold", AlertNotification.Format(alert.Threshold));
                json.WriteString("time", alert.Time);
                json.WriteString("values", alert.Values);
                json.WriteString("expected", alert.Expected);
                json.WriteEndObject();
                json.WriteString("startsAt", Rfc3339(alert.EmittedAt));
                json.WriteString("endsAt", Rfc3339(alert.EmittedAt + options.ResolveAfter));
                if (options.GeneratorBaseUrl is { } generator)
                {
                    var root = generator.AbsoluteUri.EndsWith('/') ? generator.AbsoluteUri : generator.AbsoluteUri + "/";
                    json.WriteString("generatorURL", $"{root}stream.html?id={Uri.EscapeDataString(alert.Stream)}");
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        return buffer.ToArray();
    }

    private static string Rfc3339(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
