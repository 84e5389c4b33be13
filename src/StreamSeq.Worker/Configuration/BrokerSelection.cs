using StreamSeq.Kafka.Transport;

namespace StreamSeq.Worker.Configuration;

/// <summary>
/// Which broker the worker uses: the Kafka cluster of <c>StreamSeq:Kafka:BootstrapServers</c>, or the embedded broker
/// with its sensor simulator. A production worker must never fall into the demo because a setting is missing or
/// misspelt, so the embedded broker runs only when asked for:
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>StreamSeq:Embedded:Enabled=true</c>: the embedded broker (a broker list as well is a contradiction and
/// stops the start).</item>
/// <item><c>false</c>, the default: the broker list is required.</item>
/// <item><c>auto</c>, what the shipped appsettings.json says: the embedded broker when nothing besides the source
/// that says <c>auto</c> sets anything under <c>StreamSeq</c> (no environment variable, command-line argument or other
/// settings file), so <c>dotnet run --project src/StreamSeq.Worker</c> starts the demo; a broker list when one is
/// given; any other StreamSeq setting without a broker list stops the start, naming that setting. The demo models in
/// the shipped file are defaults like any other: they neither ask for the demo nor prevent it. A deployment that
/// mounts its own settings file (the Helm chart) replaces that file and with it the <c>auto</c>.</item>
/// </list>
/// </remarks>
public static class BrokerSelection
{
    private const string EnabledKey = EmbeddedSettings.Section + ":Enabled";
    private const string BootstrapKey = KafkaTransportOptions.Section + ":BootstrapServers";

    /// <summary>True for the embedded broker, false for the configured cluster.</summary>
    /// <param name="configuration">The whole configuration (its sources decide <c>auto</c>).</param>
    /// <param name="kafka">The bound Kafka settings.</param>
    /// <param name="embedded">The bound embedded-mode settings.</param>
    /// <param name="problem">Why the settings cannot start a worker, naming the setting; null when they can.</param>
    public static bool UsesEmbeddedBroker(IConfiguration configuration, KafkaTransportOptions kafka, EmbeddedSettings embedded, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(kafka);
        ArgumentNullException.ThrowIfNull(embedded);
        problem = null;
        var bootstrap = kafka.BootstrapServers.Trim();
        var mode = embedded.Enabled.ToLowerInvariant();
        if (mode == EmbeddedSettings.On)
        {
            if (bootstrap.Length > 0)
            {
                problem = $"{EnabledKey}: true runs the embedded broker, but {BootstrapKey} names a cluster ('{bootstrap}'); set only one of them.";
            }

            return true;
        }

        if (bootstrap.Length > 0)
        {
            return false;
        }

        if (mode == EmbeddedSettings.Auto)
        {
            var given = SettingFromAnotherSource(configuration);
            if (given is null)
            {
                return true;
            }

            problem = $"{BootstrapKey}: not set, and StreamSeq settings are given ({given}), so the embedded demo broker does not start by itself; give the Kafka cluster's broker list (host:port,...), or {EnabledKey}=true for the embedded broker and simulator.";
            return false;
        }

        problem = $"{BootstrapKey}: not set; give the Kafka cluster's broker list (host:port,...), or {EnabledKey}=true for the embedded broker and simulator.";
        return false;
    }

    /// <summary>
    /// The embedded-mode settings (<c>StreamSeq:Embedded:*</c> besides <c>Enabled</c>) that a worker using a cluster
    /// ignores, each worded for a warning after "Ignored setting": those given by a source other than the one that says
    /// <c>Enabled</c> (the shipped appsettings.json carries the demo's values, which are not the user's). Empty when the
    /// embedded broker runs.
    /// </summary>
    /// <param name="configuration">The whole configuration.</param>
    /// <param name="usesEmbeddedBroker">What <see cref="UsesEmbeddedBroker"/> decided.</param>
    public static IReadOnlyList<string> IgnoredWithCluster(IConfiguration configuration, bool usesEmbeddedBroker)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (usesEmbeddedBroker || configuration is not IConfigurationRoot root)
        {
            return [];
        }

        var providers = root.Providers.ToList();
        var enabledSource = EnabledSource(providers);
        var ignored = new List<string>();
        foreach (var name in root.GetSection(EmbeddedSettings.Section).GetChildren().Select(c => c.Key).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase))
        {
            var key = $"{EmbeddedSettings.Section}:{name}";
            if (string.Equals(key, EnabledKey, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            // The source that decides a key is the last one that sets it.
            var source = providers.LastOrDefault(p => FirstKey(p, key) is not null);
            if (source is not null && !ReferenceEquals(source, enabledSource))
            {
                ignored.Add($"{key}: applies to the embedded broker and simulator only, and the worker uses the cluster of {BootstrapKey}; it has no effect.");
            }
        }

        return ignored;
    }

    /// <summary>
    /// A key under <c>StreamSeq</c> set by a configuration source other than the one whose <c>auto</c> is in effect;
    /// null when there is none.
    /// </summary>
    private static string? SettingFromAnotherSource(IConfiguration configuration)
    {
        if (configuration is not IConfigurationRoot root)
        {
            return "settings whose sources cannot be told apart";
        }

        var providers = root.Providers.ToList();
        var autoSource = EnabledSource(providers);
        foreach (var provider in providers)
        {
            if (!ReferenceEquals(provider, autoSource) && FirstKey(provider, SettingsCatalog.Root) is { } key)
            {
                return key;
            }
        }

        return null;
    }

    /// <summary>The source whose <c>Enabled</c> is in effect: the last one that sets it (the one that decides a key).</summary>
    private static IConfigurationProvider? EnabledSource(List<IConfigurationProvider> providers) =>
        providers.LastOrDefault(p => p.TryGet(EnabledKey, out _));

    /// <summary>The first key with a value at or under <paramref name="path"/> in one source.</summary>
    private static string? FirstKey(IConfigurationProvider provider, string path)
    {
        if (provider.TryGet(path, out var value) && value is not null && path != SettingsCatalog.Root)
        {
            return path;
        }

        foreach (var child in provider.GetChildKeys([], path).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (FirstKey(provider, $"{path}:{child}") is { } key)
            {
                return key;
            }
        }

        return null;
    }
}
