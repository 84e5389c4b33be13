using System.Collections;
using System.Globalization;
using System.Reflection;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.Worker.Configuration;

/// <summary>
/// Every configuration key the worker reads under <c>StreamSeq:</c>, derived from the settings classes themselves, so
/// that a misspelt environment variable (<c>StreamSeq__Kafka__BootstrapServer</c>) or Helm value is reported at start
/// instead of being silently ignored. Deployment files (docker-compose, the Helm chart) are checked against the same
/// catalog by the tests.
/// </summary>
/// <remarks>
/// Sections are found by convention: every settings class of the worker and of the Kafka transport that declares
/// <c>public const string Section = "StreamSeq:..."</c>. A key is known when its path walks the class's public settable
/// properties (case-insensitive, as the configuration binder does): dictionaries accept any key (so
/// <c>StreamSeq:Kafka:Client:sasl.password</c> is known), lists take numeric indexes, and the walk must end on a
/// scalar. Besides those sections the worker reads <c>StreamSeq:Models</c> (free-form model specs, checked by the spec
/// reader), <c>StreamSeq:ModelFiles</c>, <c>StreamSeq:Routes</c>, <c>StreamSeq:DefaultModel</c>,
/// <c>StreamSeq:ModelSettings:&lt;model&gt;</c> and <c>StreamSeq:UnknownSettings</c> (<c>fail</c>, the default, or
/// <c>warn</c>: what a key outside this catalog does to a start, see <see cref="WorkerSettings"/>).
/// </remarks>
public static partial class SettingsCatalog
{
    /// <summary>The root of every worker setting.</summary>
    public const string Root = "StreamSeq";

    private static readonly Type FreeForm = typeof(SettingsCatalog);

    private static readonly Lazy<Dictionary<string, Type>> Sections = new(DiscoverSections);

    /// <summary>The sections under <see cref="Root"/> and the type that describes each.</summary>
    public static IReadOnlyDictionary<string, Type> KnownSections => Sections.Value;

    /// <summary>True when the worker reads <paramref name="key"/> (a full path such as <c>StreamSeq:Kafka:GroupId</c>).</summary>
    /// <remarks>Keys outside <see cref="Root"/> (<c>Logging</c>, <c>Urls</c>, ...) belong to the host and are not judged here.</remarks>
    public static bool IsKnown(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var segments = key.Split(':');
        if (!string.Equals(segments[0], Root, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return segments.Length >= 2
            && Sections.Value.TryGetValue(segments[1], out var type)
            && Walk(type, segments.AsSpan(2), scalarOnly: true);
    }

    /// <summary>
    /// The keys under <see cref="Root"/> that carry a value but that no setting reads, each with a hint naming the
    /// closest known key when there is one.
    /// </summary>
    public static IReadOnlyList<string> FindUnknown(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<string>();
        var scalarsGivenAsLists = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in configuration.GetSection(Root).AsEnumerable())
        {
            // JSON files turn an empty array or object into an empty value at its path; the binder ignores those.
            if (value is null || IsKnown(key) || (value.Length == 0 && IsKnownSection(key)))
            {
                continue;
            }

            // A list or an object where one value belongs ("Lag": [1, 2]): one problem naming the setting, not one per item.
            if (ScalarAbove(key) is { } scalar)
            {
                if (scalarsGivenAsLists.Add(scalar))
                {
                    problems.Add($"{scalar}: takes a single value, not a list or an object (found {key}).");
                }

                continue;
            }

            var hint = Suggest(key);
            problems.Add(hint is null ? $"{key}: not a setting the worker reads." : $"{key}: not a setting the worker reads (did you mean {hint}?).");
        }

        problems.Sort(StringComparer.Ordinal);
        return problems;
    }

    /// <summary>Logs a warning per unknown key (the list <see cref="FindUnknown"/> returns).</summary>
    public static void WarnAboutUnknown(IEnumerable<string> problems, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(problems);
        foreach (var problem in problems)
        {
            LogUnknown(logger, problem);
        }
    }

    /// <summary>The known scalar setting that is a proper prefix of <paramref name="key"/>, or null.</summary>
    private static string? ScalarAbove(string key)
    {
        var segments = key.Split(':');
        for (var length = segments.Length - 1; length >= 2; length--)
        {
            var prefix = string.Join(':', segments[..length]);
            if (IsKnown(prefix) && ValueType(prefix) is not null)
            {
                return prefix;
            }
        }

        return null;
    }

    private static bool IsKnownSection(string key)
    {
        var segments = key.Split(':');
        return segments.Length >= 2
            && string.Equals(segments[0], Root, StringComparison.OrdinalIgnoreCase)
            && Sections.Value.TryGetValue(segments[1], out var type)
            && Walk(type, segments.AsSpan(2), scalarOnly: false);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored setting {Problem}")]
    private static partial void LogUnknown(ILogger logger, string problem);

    private static Dictionary<string, Type> DiscoverSections()
    {
        var sections = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase)
        {
            ["Models"] = FreeForm,
            ["ModelFiles"] = typeof(List<string>),
            ["Routes"] = typeof(List<RouteSettings>),
            ["DefaultModel"] = typeof(string),
            ["ModelSettings"] = typeof(Dictionary<string, ModelSettings>),
            ["UnknownSettings"] = typeof(string),
        };
        foreach (var assembly in new[] { typeof(SettingsCatalog).Assembly, typeof(KafkaTransportOptions).Assembly })
        {
            foreach (var type in assembly.GetExportedTypes())
            {
                if (type.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field
                    && field.GetRawConstantValue() is string section
                    && section.StartsWith(Root + ":", StringComparison.Ordinal)
                    && section.IndexOf(':', Root.Length + 1) < 0)
                {
                    sections[section[(Root.Length + 1)..]] = type;
                }
            }
        }

        return sections;
    }

    /// <summary>
    /// The type a known setting is bound to (for example <see cref="TimeSpan"/> for
    /// <c>StreamSeq:Kafka:CommitInterval</c>, <see cref="Nullable{T}"/> kept); null for keys outside the catalog and for
    /// free-form ones (model specs), whose values are checked where they are read.
    /// </summary>
    public static Type? ValueType(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var segments = key.Split(':');
        return segments.Length >= 2
            && string.Equals(segments[0], Root, StringComparison.OrdinalIgnoreCase)
            && Sections.Value.TryGetValue(segments[1], out var type)
            && Leaf(type, segments.AsSpan(2)) is { } leaf
            && leaf != FreeForm
            && IsScalar(leaf)
            ? leaf
            : null;
    }

    /// <summary>Walks a key path through a settings type; it must end on a scalar unless <paramref name="scalarOnly"/> is false.</summary>
    private static bool Walk(Type type, ReadOnlySpan<string> rest, bool scalarOnly) =>
        Leaf(type, rest) is { } leaf && (leaf == FreeForm || IsScalar(leaf) || !scalarOnly);

    /// <summary>The type reached by walking a key path through a settings type (free-form stops the walk); null when the path leaves it.</summary>
    private static Type? Leaf(Type type, ReadOnlySpan<string> rest)
    {
        if (type == FreeForm)
        {
            return type;
        }

        if (IsScalar(type))
        {
            return rest.IsEmpty ? type : null;
        }

        if (rest.IsEmpty)
        {
            return type;
        }

        type = Nullable.GetUnderlyingType(type) ?? type;
        if (DictionaryValueType(type) is { } valueType)
        {
            return Leaf(valueType, rest[1..]);
        }

        if (ElementType(type) is { } elementType)
        {
            return int.TryParse(rest[0], NumberStyles.None, CultureInfo.InvariantCulture, out _) ? Leaf(elementType, rest[1..]) : null;
        }

        return FindProperty(type, rest[0]) is { } property ? Leaf(property.PropertyType, rest[1..]) : null;
    }

    private static PropertyInfo? FindProperty(Type type, string name) =>
        BindableProperties(type).FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    private static IEnumerable<PropertyInfo> BindableProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && (p.SetMethod is { IsPublic: true } || (p.GetMethod is not null && !IsScalar(p.PropertyType))));

    private static bool IsScalar(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
            || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Guid) || type == typeof(Uri);
    }

    private static Type? DictionaryValueType(Type type)
    {
        var dictionary = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IDictionary<,>) ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        return dictionary?.GetGenericArguments()[1];
    }

    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (!typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }

        var enumerable = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>) ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }

    /// <summary>The known key closest to an unknown one: same path up to the first unknown segment, nearest name there.</summary>
    private static string? Suggest(string key)
    {
        var segments = key.Split(':');
        if (segments.Length < 2)
        {
            return null;
        }

        if (!Sections.Value.TryGetValue(segments[1], out var type))
        {
            return Closest(segments[1], Sections.Value.Keys) is { } section ? $"{Root}:{section}" : null;
        }

        var prefix = $"{Root}:{segments[1]}";
        for (var i = 2; i < segments.Length; i++)
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            if (type == FreeForm || IsScalar(type))
            {
                return null;
            }

            if (DictionaryValueType(type) is { } valueType)
            {
                type = valueType;
            }
            else if (ElementType(type) is { } elementType)
            {
                type = elementType;
            }
            else if (FindProperty(type, segments[i]) is { } property)
            {
                type = property.PropertyType;
            }
            else
            {
                return Closest(segments[i], BindableProperties(type).Select(p => p.Name)) is { } name ? $"{prefix}:{name}" : null;
            }

            prefix += ":" + segments[i];
        }

        return null;
    }

    private static string? Closest(string name, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = StreamSeq.Processing.Records.Spelling.Distance(name.ToUpperInvariant(), candidate.ToUpperInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return bestDistance <= Math.Max(2, name.Length / 3) ? best : null;
    }
}
