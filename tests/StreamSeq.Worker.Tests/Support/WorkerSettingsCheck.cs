using Microsoft.Extensions.Configuration;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Models;
using StreamSeq.Worker.Configuration;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>
/// What the worker does with its configuration at start (<see cref="WorkerSettings.Load"/>, as Program.cs calls it),
/// plus the unknown keys it would report. Deployment tests run their rendered settings through it.
/// </summary>
internal static class WorkerSettingsCheck
{
    public sealed record Outcome(KafkaTransportOptions Kafka, ProcessingSettings Processing, EmbeddedSettings Embedded, ModelRouter Router, IReadOnlyList<string> UnknownKeys, bool UsesEmbeddedBroker);

    /// <summary>Throws <see cref="InvalidSettingsException"/> (with the worker's own lines) when the worker would refuse to start.</summary>
    public static Outcome Validate(IConfiguration configuration)
    {
        var settings = WorkerSettings.Load(configuration);
        return new Outcome(settings.Kafka, settings.Processing, settings.Embedded, settings.Router, SettingsCatalog.FindUnknown(configuration), settings.UsesEmbeddedBroker);
    }

    /// <summary>The configuration a worker sees: the image's appsettings.json (or a replacement) under environment variables.</summary>
    public static IConfiguration Build(string appSettingsJson, IEnumerable<KeyValuePair<string, string?>> environment)
    {
        var json = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(appSettingsJson));
        return new ConfigurationBuilder()
            .AddJsonStream(json)
            .AddInMemoryCollection(environment.Select(e => new KeyValuePair<string, string?>(EnvironmentKey(e.Key), e.Value)))
            .Build();
    }

    /// <summary>An environment variable name as a configuration key (<c>__</c> separates sections).</summary>
    public static string EnvironmentKey(string variable) => variable.Replace("__", ":", StringComparison.Ordinal);
}
