using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Processing.Models;

/// <summary>Chooses the model of a new stream: the first matching route wins, then the default model.</summary>
public sealed class ModelRouter
{
    private readonly Dictionary<string, ModelBinding> models;
    private readonly (ModelRoute Route, ModelBinding Model)[] routes;
    private readonly ModelBinding? fallback;

    /// <summary>Creates a router over bindings (unique names), routes and an optional default model name.</summary>
    public ModelRouter(IEnumerable<ModelBinding> bindings, IEnumerable<ModelRoute>? routes = null, string? defaultModel = null)
    {
        ArgumentNullException.ThrowIfNull(bindings);
        models = new Dictionary<string, ModelBinding>(StringComparer.Ordinal);
        foreach (var b in bindings)
        {
            if (!models.TryAdd(b.Name, b))
            {
                throw new ModelValidationException("name", $"two models are named '{b.Name}'; model names must be unique.");
            }
        }

        var list = new List<(ModelRoute, ModelBinding)>();
        var index = 0;
        foreach (var r in routes ?? [])
        {
            if (!models.TryGetValue(r.Model, out var target))
            {
                throw new ModelValidationException($"routes[{index}].model", $"names model '{r.Model}', which is not configured (configured: {string.Join(", ", models.Keys)}).");
            }

            list.Add((r, target));
            index++;
        }

        this.routes = [.. list];
        if (defaultModel is not null)
        {
            fallback = models.TryGetValue(defaultModel, out var d)
                ? d
                : throw new ModelValidationException("defaultModel", $"names model '{defaultModel}', which is not configured.");
        }
        else if (models.Count == 1 && this.routes.Length == 0)
        {
            fallback = models.Values.First();
        }
    }

    /// <summary>The configured models by name.</summary>
    public IReadOnlyDictionary<string, ModelBinding> Models => models;

    /// <summary>The model for a stream, or null when no route matches and there is no default.</summary>
    public ModelBinding? Route(ReadOnlySpan<char> streamId, ReadOnlySpan<char> routeKey)
    {
        foreach (var (route, model) in routes)
        {
            if (route.RouteKey is not null && !routeKey.SequenceEqual(route.RouteKey))
            {
                continue;
            }

            if (route.StreamPattern is not null && !Glob(streamId, route.StreamPattern))
            {
                continue;
            }

            return model;
        }

        return fallback;
    }

    /// <summary>The model with this name, or null.</summary>
    public ModelBinding? Find(string name) => models.GetValueOrDefault(name);

    /// <summary>Glob match with <c>*</c> (any run) and <c>?</c> (one character).</summary>
    public static bool Glob(ReadOnlySpan<char> text, ReadOnlySpan<char> pattern)
    {
        int t = 0, p = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t]))
            {
                t++;
                p++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
