using System.Reflection;
using System.Runtime.Loader;

namespace StreamSeq.Worker.Plugins;

/// <summary>
/// Loads one plug-in and the libraries only it carries (ONNX Runtime's managed and native parts) from its own folder,
/// through the plug-in's <c>.deps.json</c>. Every assembly the worker itself has (the framework, StreamSeq.Estimation
/// with the model contract, MathNet, ...) comes from the worker, so the plug-in's kinds implement the worker's
/// <see cref="Estimation.Specs.IModelKind"/> and not a copy of it.
/// </summary>
internal sealed class PluginLoadContext : AssemblyLoadContext
{
    private static readonly Lazy<HashSet<string>> HostAssemblies = new(ReadHostAssemblies);

    private readonly AssemblyDependencyResolver resolver;

    public PluginLoadContext(string mainAssemblyPath)
        : base(Path.GetFileNameWithoutExtension(mainAssemblyPath), isCollectible: false)
    {
        resolver = new AssemblyDependencyResolver(mainAssemblyPath);
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is { } name && HostAssemblies.Value.Contains(name))
        {
            return null;
        }

        return resolver.ResolveAssemblyToPath(assemblyName) is { } path ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName) =>
        resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } path ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;

    /// <summary>The simple names of the assemblies the host resolves itself (its trusted platform assemblies).</summary>
    private static HashSet<string> ReadHostAssemblies()
    {
        var list = AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? string.Empty;
        return list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
    }
}
