using System.Collections;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;

namespace StreamSeq.Worker.Configuration;

/// <summary>
/// Where a setting's value came from, so that a problem names what the user has to change: the environment variable
/// (<c>StreamSeq__Processing__Lag</c>, which a Kubernetes manifest or a compose file spells that way and never as
/// <c>StreamSeq:Processing:Lag</c>) or the settings file. Also finds settings that two environment variables give
/// different values, which the host resolves in no defined order.
/// </summary>
public static partial class SettingSources
{
    /// <summary>The prefixes under which ASP.NET Core reads environment variables as settings, besides none.</summary>
    private static readonly string[] Prefixes = ["", "ASPNETCORE_", "DOTNET_"];

    /// <summary>
    /// Settings under <c>StreamSeq</c> that more than one environment variable sets, with different values: Linux
    /// tells <c>StreamSeq__Processing__Lag</c> and <c>STREAMSEQ__PROCESSING__LAG</c> apart, the configuration does not,
    /// and which one wins depends on the order the process's environment happens to list them in.
    /// </summary>
    /// <param name="configuration">The worker's configuration; nothing is found unless it reads environment variables.</param>
    /// <param name="environment">The variables (null: this process's).</param>
    public static IReadOnlyList<string> FindEnvironmentConflicts(IConfiguration configuration, IDictionary? environment = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration is not IConfigurationRoot root || !root.Providers.OfType<EnvironmentVariablesConfigurationProvider>().Any())
        {
            return [];
        }

        var problems = new List<string>();
        var variables = Variables(environment)
            .Select(v => (v.Name, v.Value, Key: v.Name.Replace("__", ":", StringComparison.Ordinal)))
            .Where(v => v.Key.StartsWith(SettingsCatalog.Root + ":", StringComparison.OrdinalIgnoreCase));
        foreach (var group in variables.GroupBy(v => v.Key, StringComparer.OrdinalIgnoreCase))
        {
            var distinct = group.OrderBy(v => v.Name, StringComparer.Ordinal).ToList();
            if (distinct.Count > 1 && distinct.Select(v => v.Value).Distinct(StringComparer.Ordinal).Count() > 1)
            {
                var key = configuration.GetSection(group.Key).Path;
                problems.Add($"{key}: set by {distinct.Count} environment variables with different values ({string.Join(", ", distinct.Select(v => $"{v.Name}='{v.Value}'"))}), and which one wins is not defined; keep one of them.");
            }
        }

        return problems;
    }

    /// <summary>
    /// <paramref name="problem"/> (which starts with the key it is about, <c>StreamSeq:Processing:Lag: ...</c>) with the
    /// environment variable or settings file that gave the key its value named after the key; unchanged when the value
    /// came from the command line or from the code, or the problem names no key.
    /// </summary>
    public static string Annotate(IConfiguration configuration, string problem, IDictionary? environment = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(problem);
        var match = LeadingKey().Match(problem);
        if (!match.Success || configuration is not IConfigurationRoot root)
        {
            return problem;
        }

        var written = match.Groups["key"].Value;
        var key = IndexBrackets().Replace(written, ":$1");
        var source = Source(root, key, environment);
        return source is null || problem.Contains(source[(source.LastIndexOf(' ') + 1)..], StringComparison.Ordinal)
            ? problem
            : string.Concat(written, $" ({source})", problem.AsSpan(written.Length));
    }

    /// <summary>Where the value of <paramref name="key"/>, or of the first key under it, comes from; null for the command line and code.</summary>
    private static string? Source(IConfigurationRoot root, string key, IDictionary? environment)
    {
        foreach (var provider in root.Providers.Reverse())
        {
            string? found;
            if (provider.TryGet(key, out var value) && value is not null)
            {
                // An empty value is a setting left unset, not one to trace back.
                if (value.Length == 0)
                {
                    return null;
                }

                found = key;
            }
            else
            {
                // A model spec's field may be an object or a matrix whose values sit under it; any other key without a
                // value is a section, and a value somewhere under it need not be what the problem is about.
                found = key.StartsWith("StreamSeq:Models:", StringComparison.OrdinalIgnoreCase) ? FirstKeyUnder(provider, key) : null;
            }

            if (found is null)
            {
                continue;
            }

            return provider switch
            {
                EnvironmentVariablesConfigurationProvider => Variable(found, environment) is { } name && !string.Equals(name, key, StringComparison.Ordinal)
                    ? $"environment variable {name}"
                    : null,
                JsonConfigurationProvider json => json.Source.FileProvider?.GetFileInfo(json.Source.Path ?? string.Empty).PhysicalPath is { } path
                    ? $"from {path}"
                    : null,
                _ => null,
            };
        }

        return null;
    }

    private static string? FirstKeyUnder(IConfigurationProvider provider, string key)
    {
        foreach (var child in provider.GetChildKeys([], key).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var path = $"{key}:{child}";
            if (provider.TryGet(path, out var value) && value is not null)
            {
                return path;
            }

            if (FirstKeyUnder(provider, path) is { } deeper)
            {
                return deeper;
            }
        }

        return null;
    }

    /// <summary>The environment variable that spells <paramref name="key"/> (with a prefix ASP.NET Core strips, or none).</summary>
    private static string? Variable(string key, IDictionary? environment)
    {
        var names = Variables(environment).Select(v => v.Name).Order(StringComparer.Ordinal).ToList();
        foreach (var prefix in Prefixes)
        {
            foreach (var name in names)
            {
                if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
                    && string.Equals(name[prefix.Length..].Replace("__", ":", StringComparison.Ordinal), key, StringComparison.OrdinalIgnoreCase))
                {
                    return name;
                }
            }
        }

        return null;
    }

    private static IEnumerable<(string Name, string Value)> Variables(IDictionary? environment)
    {
        foreach (DictionaryEntry entry in environment ?? Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string name)
            {
                yield return (name, entry.Value as string ?? string.Empty);
            }
        }
    }

    /// <summary>A key at the start of a problem: segments separated by ':' up to ': ', ' (' or the end.</summary>
    [GeneratedRegex(@"^(?<key>[^\s:()]+(:[^\s:()]+)*)(?=: | \(|:?$)")]
    private static partial Regex LeadingKey();

    [GeneratedRegex(@"\[([0-9]+)\]")]
    private static partial Regex IndexBrackets();
}
