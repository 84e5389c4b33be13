using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

namespace StreamSeq.Worker.Alerts;

/// <summary>
/// Where anomaly alerts go besides the anomaly topic (section <c>StreamSeq:Alerts</c>). The topic stays the durable,
/// exactly-once record; these sinks are notifications, delivered at most once, and never slow the processing loop.
/// </summary>
public sealed partial class AlertSettings : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "StreamSeq:Alerts";

    /// <summary>The Alertmanager webhook.</summary>
    public AlertWebhookSettings Webhook { get; set; } = new();

    /// <summary>True when a webhook is configured.</summary>
    public bool WebhookEnabled => Webhook.Url is not null;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        const string Prefix = Section + ":Webhook:";
        var webhook = Webhook;
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(webhook, new ValidationContext(webhook), results, validateAllProperties: true);
        foreach (var r in results)
        {
            var member = r.MemberNames.FirstOrDefault() ?? string.Empty;
            yield return new ValidationResult($"{Prefix}{member}: {r.ErrorMessage}", [$"Webhook:{member}"]);
        }

        if (webhook.Url is { } url && !IsHttp(url))
        {
            yield return new ValidationResult($"{Prefix}Url: must be an absolute http or https URL, got '{url}'.", ["Webhook:Url"]);
        }

        if (webhook.GeneratorUrl is { } generator && !IsHttp(generator))
        {
            yield return new ValidationResult($"{Prefix}GeneratorUrl: must be an absolute http or https URL, got '{generator}'.", ["Webhook:GeneratorUrl"]);
        }

        if (webhook.QueueCapacity < webhook.MaxBatchSize)
        {
            yield return new ValidationResult($"{Prefix}QueueCapacity: must be at least MaxBatchSize ({webhook.MaxBatchSize}).", ["Webhook:QueueCapacity"]);
        }

        foreach (var name in webhook.Labels.Keys.Where(n => !LabelName().IsMatch(n)))
        {
            yield return new ValidationResult($"{Prefix}Labels:{name}: not a valid Alertmanager label name ([a-zA-Z_][a-zA-Z0-9_]*).", [$"Webhook:Labels:{name}"]);
        }
    }

    private static bool IsHttp(Uri uri) => uri.IsAbsoluteUri && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();
}
