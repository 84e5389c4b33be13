using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;

namespace StreamSeq.Worker.Configuration;

/// <summary>
/// Builds the worker's models and routes from configuration: model specs inline under <c>StreamSeq:Models</c> (the
/// same JSON as CLI spec files) and/or spec files under <c>StreamSeq:ModelFiles</c> (files or folders of <c>*.json</c>,
/// e.g. a mounted ConfigMap), routes under <c>StreamSeq:Routes</c>, <c>StreamSeq:DefaultModel</c> and per-model
/// overrides under <c>StreamSeq:ModelSettings:&lt;name&gt;</c>. Errors name the configuration key.
/// </summary>
public static class ModelConfiguration
{
    /// <summary>The section of per-model overrides.</summary>
    public const string ModelSettingsSection = "StreamSeq:ModelSettings";

    /// <summary>Builds the router; throws <see cref="InvalidOperationException"/> naming the setting on any error.</summary>
    public static ModelRouter Build(IConfiguration configuration, ProcessingSettings processing)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(processing);
        var specs = new List<(string Where, ModelSpec Spec)>();
        var inline = configuration.GetSection("StreamSeq:Models");
        foreach (var child in inline.GetChildren().OrderBy(c => int.TryParse(c.Key, out var i) ? i : int.MaxValue))
        {
            var where = $"StreamSeq:Models:{child.Key}";
            var json = ToJson(child) ?? throw new InvalidOperationException($"{where}: empty model spec.");
            specs.Add((where, Parse(where, json.ToJsonString())));
        }

        foreach (var entry in configuration.GetSection("StreamSeq:ModelFiles").GetChildren())
        {
            var path = entry.Value ?? string.Empty;
            var where = $"StreamSeq:ModelFiles:{entry.Key} ({path})";
            var files = Directory.Exists(path) ? Directory.GetFiles(path, "*.json").Order(StringComparer.Ordinal).ToArray()
                : File.Exists(path) ? [path]
                : throw new InvalidOperationException($"{where}: no such file or folder.");
            if (files.Length == 0)
            {
                // A mount that came up empty (a ConfigMap without keys, a wrong volume) would leave models out silently.
                throw new InvalidOperationException($"{where}: the folder holds no *.json model spec files.");
            }

            foreach (var file in files)
            {
                var source = $"{where}: {Path.GetFileName(file)}";
                string text;
                try
                {
                    text = ModelSpec.ReadFile(file, source);
                }
                catch (ModelValidationException e)
                {
                    throw new InvalidOperationException($"{source}: {e.Problem}", e);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new InvalidOperationException($"{source}: cannot be read: {e.Message}", e);
                }

                specs.Add((source, Parse(source, text, Path.GetDirectoryName(Path.GetFullPath(file)))));
            }
        }

        if (specs.Count == 0)
        {
            throw new InvalidOperationException("StreamSeq:Models: no models are configured (give specs under StreamSeq:Models or files under StreamSeq:ModelFiles).");
        }

        var bindings = new List<ModelBinding>();
        foreach (var (where, spec) in specs)
        {
            var overrides = configuration.GetSection($"{ModelSettingsSection}:{spec.Name}").Get<ModelSettings>() ?? new ModelSettings();
            try
            {
                bindings.Add(ModelBindingFactory.FromSpec(spec, overrides.Lag ?? processing.Lag, overrides.Horizon ?? processing.Horizon));
            }
            catch (ModelValidationException e) when (e.Field is "lag" or "horizon")
            {
                // The value came from a processing setting, not from the spec: name the key the user wrote.
                var name = e.Field == "lag" ? nameof(ModelSettings.Lag) : nameof(ModelSettings.Horizon);
                var own = e.Field == "lag" ? overrides.Lag : overrides.Horizon;
                var key = own is null ? $"{ProcessingSettings.Section}:{name}" : $"{ModelSettingsSection}:{spec.Name}:{name}";
                throw new InvalidOperationException($"{key}: {e.Problem} (model '{spec.Name}', {where})", e);
            }
            catch (ModelValidationException e)
            {
                throw new InvalidOperationException($"{where}:{e.Field.Replace('.', ':')}: {e.Problem}", e);
            }
        }

        var names = bindings.Select(b => b.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in configuration.GetSection(ModelSettingsSection).GetChildren())
        {
            if (!names.Contains(entry.Key))
            {
                throw new InvalidOperationException($"{entry.Path}: there is no model named '{entry.Key}' (models: {string.Join(", ", names.Order(StringComparer.Ordinal))}).");
            }
        }

        var routes = configuration.GetSection("StreamSeq:Routes").Get<List<RouteSettings>>() ?? [];
        for (var i = 0; i < routes.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(routes[i].Model))
            {
                throw new InvalidOperationException($"StreamSeq:Routes:{i}:Model: is required.");
            }
        }

        try
        {
            return new ModelRouter(
                bindings,
                routes.Select(r => new ModelRoute(r.Model, string.IsNullOrEmpty(r.StreamPattern) ? null : r.StreamPattern, string.IsNullOrEmpty(r.RouteKey) ? null : r.RouteKey)),
                configuration["StreamSeq:DefaultModel"] is { Length: > 0 } d ? d : null);
        }
        catch (ModelValidationException e)
        {
            var key = e.Field.StartsWith("routes", StringComparison.Ordinal)
                ? "StreamSeq:R" + e.Field[1..].Replace("[", ":", StringComparison.Ordinal).Replace("].", ":", StringComparison.Ordinal)
                : e.Field == "defaultModel" ? "StreamSeq:DefaultModel" : $"StreamSeq:Models ({e.Field})";
            throw new InvalidOperationException($"{key}: {e.Problem}", e);
        }
    }

    private static ModelSpec Parse(string where, string json, string? baseDirectory = null)
    {
        try
        {
            return ModelSpec.Parse(json, where, baseDirectory);
        }
        catch (ModelValidationException e) when (e.Field == where)
        {
            // The whole spec is at fault (empty, not JSON): the field is where it came from.
            throw new InvalidOperationException($"{where}: {e.Problem}", e);
        }
        catch (ModelValidationException e)
        {
            throw new InvalidOperationException($"{where}:{e.Field.Replace('.', ':')}: {e.Problem}", e);
        }
    }

    /// <summary>Turns a configuration section back into JSON (numbers and booleans typed, index keys as arrays).</summary>
    public static JsonNode? ToJson(IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var children = section.GetChildren().ToList();
        if (children.Count == 0)
        {
            var value = section.Value;
            if (value is null)
            {
                return null;
            }

            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
            {
                return JsonValue.Create(number);
            }

            return value switch
            {
                "true" or "True" => JsonValue.Create(true),
                "false" or "False" => JsonValue.Create(false),
                _ => JsonValue.Create(value),
            };
        }

        if (children.All(c => int.TryParse(c.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            var array = new JsonArray();
            foreach (var c in children.OrderBy(c => int.Parse(c.Key, CultureInfo.InvariantCulture)))
            {
                array.Add(ToJson(c));
            }

            return array;
        }

        var obj = new JsonObject();
        foreach (var c in children)
        {
            obj[c.Key] = ToJson(c);
        }

        return obj;
    }

    /// <summary>Serialises JSON for logs.</summary>
    internal static string Describe(JsonNode node) => node.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
}
