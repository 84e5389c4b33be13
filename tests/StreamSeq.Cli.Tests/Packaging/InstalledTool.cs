using System.Runtime.InteropServices;
using System.Xml.Linq;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Packaging;

/// <summary>
/// The streamseq tool as a user gets it, made once per test run: <c>dotnet pack</c> of src/StreamSeq.Cli (into a
/// private artifacts folder, so the repository's build outputs are not touched while other tests use them), then
/// <c>dotnet tool install --tool-path</c> from that folder as the only package source, with an empty package cache.
/// Nothing is fetched from a remote source. Only this machine's platform package is packed, to keep the run short.
/// </summary>
public sealed class InstalledTool : IDisposable
{
    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(10);

    private readonly string root = Directory.CreateTempSubdirectory("streamseq-tool-").FullName;

    public InstalledTool()
    {
        Version = XDocument.Load(RepositoryFiles.Path("Directory.Build.props")).Descendants("Version").Single().Value;
        RuntimeIdentifiers = XDocument.Load(Project).Descendants("ToolPackageRuntimeIdentifiers").Single().Value.Split(';');
        RuntimeIdentifier = RuntimeInformation.RuntimeIdentifier;
        if (!RuntimeIdentifiers.Contains(RuntimeIdentifier))
        {
            return;
        }

        Feed = Path.Combine(root, "feed");
        var pack = ProcessRunner.Run(
            "dotnet",
            ["pack", Project, "-c", "Release", "-o", Feed, "--artifacts-path", Path.Combine(root, "artifacts"), $"-p:ToolPackageRuntimeIdentifiers={RuntimeIdentifier}", "-nologo"],
            PackTimeout);
        if (pack.Code != 0)
        {
            throw new InvalidOperationException($"dotnet pack failed:\n{pack}");
        }

        var config = Path.Combine(root, "nuget.config");
        File.WriteAllText(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="streamseq-local" value="{Feed}" />
              </packageSources>
            </configuration>
            """);
        var tools = Path.Combine(root, "tools");
        var install = ProcessRunner.Run(
            "dotnet",
            ["tool", "install", "streamseq", "--version", Version, "--tool-path", tools, "--configfile", config, "--add-source", Feed],
            PackTimeout,
            environment: new Dictionary<string, string?> { ["NUGET_PACKAGES"] = Path.Combine(root, "nuget-cache") });
        if (install.Code != 0)
        {
            throw new InvalidOperationException($"dotnet tool install failed:\n{install}");
        }

        Command = Path.Combine(tools, OperatingSystem.IsWindows() ? "streamseq.exe" : "streamseq");
    }

    public static string Project => RepositoryFiles.Path("src", "StreamSeq.Cli", "StreamSeq.Cli.csproj");

    /// <summary>The package version (Directory.Build.props).</summary>
    public string Version { get; }

    /// <summary>The platforms the project packs for.</summary>
    public IReadOnlyList<string> RuntimeIdentifiers { get; }

    /// <summary>This machine's platform.</summary>
    public string RuntimeIdentifier { get; }

    /// <summary>The folder the packages were written to; null when this platform is not packed.</summary>
    public string? Feed { get; }

    /// <summary>The installed command; null when this platform is not packed.</summary>
    public string? Command { get; }

    /// <summary>The platform package's path.</summary>
    public string PlatformPackage => Path.Combine(Feed!, $"streamseq.{RuntimeIdentifier}.{Version}.nupkg");

    /// <summary>Runs the installed command.</summary>
    public ProcessRunner.Result Run(params string[] arguments) =>
        ProcessRunner.Run(Command ?? throw new InvalidOperationException("not installed"), arguments, TimeSpan.FromMinutes(3), root);

    public void Dispose() => Directory.Delete(root, recursive: true);
}
