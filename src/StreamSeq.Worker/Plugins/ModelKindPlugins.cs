using StreamSeq.Estimation.Specs;

namespace StreamSeq.Worker.Plugins;

/// <summary>
/// Model kinds that live outside the worker, loaded at start from plug-in folders the way Kafka Connect loads
/// connectors from its <c>plugin.path</c>: each directory on the path holds one folder per plug-in, named after the
/// plug-in's assembly (<c>plugins/StreamSeq.Estimation.Onnx/StreamSeq.Estimation.Onnx.dll</c>, its <c>.deps.json</c>
/// and the libraries only it needs), loaded in its own <see cref="PluginLoadContext"/>. Every public
/// <see cref="IModelKind"/> with a parameterless constructor in the plug-in's assembly joins the
/// <see cref="ModelCatalog"/>.
/// </summary>
/// <remarks>
/// The ONNX Runtime backend (<c>onnx-recurrent</c>, 29 MB of native code) is such a plug-in, so the default image
/// does without it; a spec that names a kind of a plug-in that is not installed fails at start saying which plug-in is
/// missing. The path is <see cref="PathVariable"/> (directories separated by <see cref="Path.PathSeparator"/>), by
/// default the <c>plugins</c> folder beside the worker.
/// </remarks>
public static class ModelKindPlugins
{
    /// <summary>The environment variable with the plug-in directories.</summary>
    public const string PathVariable = "STREAMSEQ_PLUGIN_PATH";

    /// <summary>The plug-in directory beside the worker when <see cref="PathVariable"/> is not set.</summary>
    public const string DefaultFolder = "plugins";

    /// <summary>Kinds known to come from a plug-in, with the plug-in that provides each.</summary>
    public static IReadOnlyDictionary<string, string> KnownKinds { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["onnx-recurrent"] = "StreamSeq.Estimation.Onnx",
    };

    /// <summary>
    /// Loads every plug-in on the path and registers its kinds; kinds of <see cref="KnownKinds"/> that no plug-in
    /// provided are registered as placeholders that explain what is missing. Returns one line per plug-in loaded.
    /// </summary>
    /// <exception cref="InvalidOperationException">A directory on an explicit path does not exist, or a plug-in folder cannot be loaded (the message names it).</exception>
    public static IReadOnlyList<string> Load(string? path, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(baseDirectory);
        var explicitPath = !string.IsNullOrWhiteSpace(path);
        var roots = explicitPath
            ? path!.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Path.GetFullPath).ToList()
            : [Path.Combine(baseDirectory, DefaultFolder)];
        var loaded = new List<string>();
        foreach (var root in roots)
        {
            if (!Directory.Exists(root))
            {
                if (explicitPath)
                {
                    throw new InvalidOperationException($"{PathVariable}: '{root}' is not a directory.");
                }

                continue;
            }

            foreach (var folder in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
            {
                loaded.Add(LoadOne(folder));
            }
        }

        foreach (var (kind, plugin) in KnownKinds)
        {
            if (ModelCatalog.Find(kind) is null)
            {
                ModelCatalog.Register(new MissingPluginKind(kind, plugin, roots));
            }
        }

        return loaded;
    }

    private static string LoadOne(string folder)
    {
        var name = Path.GetFileName(folder);
        var main = Path.Combine(folder, name + ".dll");
        if (!File.Exists(main))
        {
            throw new InvalidOperationException($"plug-in '{folder}': no {name}.dll in it (a plug-in folder is named after its assembly).");
        }

        List<IModelKind> kinds;
        try
        {
            var assembly = new PluginLoadContext(main).LoadFromAssemblyPath(main);
            kinds = [.. assembly.GetExportedTypes()
                .Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(IModelKind).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
                .Select(t => (IModelKind)Activator.CreateInstance(t)!)];
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException or FileNotFoundException or TypeLoadException or System.Reflection.ReflectionTypeLoadException or System.Reflection.TargetInvocationException)
        {
            throw new InvalidOperationException($"plug-in '{main}' could not be loaded: {e.Message}", e);
        }

        if (kinds.Count == 0)
        {
            throw new InvalidOperationException($"plug-in '{main}' has no public model kind (a class implementing IModelKind with a parameterless constructor).");
        }

        foreach (var kind in kinds)
        {
            ModelCatalog.Register(kind);
        }

        return $"{name} ({string.Join(", ", kinds.Select(k => k.Kind))}) from {folder}";
    }
}
