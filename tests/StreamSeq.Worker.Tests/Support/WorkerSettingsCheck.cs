using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Models;
using StreamSeq.Worker.Configuration;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>
/// What the worker does with its configuration at start (Program.cs): bind and validate every options class with its
/// data annotations and cross-field validator, build the models and routes, and list unknown keys. Deployment tests
/// run their rendered settings through it.
/// </summary>
internal static class WorkerSettingsCheck
{
    public sealed record Outcome(KafkaTransportOptions Kafka, ProcessingSettings Processing, EmbeddedSettings Embedded, ModelRouter Router, IReadOnlyList<string> UnknownKeys);

    /// <summary>Throws (with the worker's own message) when the worker would refuse to start.</summary>
    public static Outcome Validate(IConfiguration configuration)
    {
        var services = new ServiceCollection();
        services.AddOptions<KafkaTransportOptions>().Bind(configuration.GetSection(KafkaTransportOptions.Section)).ValidateDataAnnotations();
        services.AddOptions<ProcessingSettings>().Bind(configuration.GetSection(ProcessingSettings.Section)).ValidateDataAnnotations();
        services.AddOptions<EmbeddedSettings>().Bind(configuration.GetSection(EmbeddedSettings.Section)).ValidateDataAnnotations();
        services.AddSingleton<IValidateOptions<KafkaTransportOptions>, KnownSettingsValidator>();
        using var provider = services.BuildServiceProvider();
        var kafka = provider.GetRequiredService<IOptions<KafkaTransportOptions>>().Value;
        var processing = provider.GetRequiredService<IOptions<ProcessingSettings>>().Value;
        var embedded = provider.GetRequiredService<IOptions<EmbeddedSettings>>().Value;
        var router = ModelConfiguration.Build(configuration, processing);
        return new Outcome(kafka, processing, embedded, router, SettingsCatalog.FindUnknown(configuration));
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
