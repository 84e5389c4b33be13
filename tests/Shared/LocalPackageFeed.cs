using System.Security;

namespace StreamSeq.Testing;

/// <summary>
/// Packages of the repository as a user gets them, without a remote feed: <c>dotnet pack</c> into a folder (through a
/// private artifacts folder, so the repository's build outputs are not touched while other tests use them), a
/// nuget.config whose only sources are that folder and, for the packages' dependencies, the machine's global packages
/// folder (already restored by the build, so nothing is fetched), and an empty package cache of its own (a package
/// packed in an earlier run can never be taken from a cache). Linked into the test projects that need it (tests/Shared).
/// </summary>
public sealed class LocalPackageFeed : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    public LocalPackageFeed(string prefix)
    {
        Root = Directory.CreateTempSubdirectory(prefix).FullName;
        Folder = Directory.CreateDirectory(Path.Combine(Root, "feed")).FullName;
        ConfigFile = Path.Combine(Root, "nuget.config");
        var dependencies = SecurityElement.Escape(GlobalPackagesFolder());
        File.WriteAllText(ConfigFile, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="streamseq-local" value="{SecurityElement.Escape(Folder)}" />
                <add key="restored-dependencies" value="{dependencies}" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="streamseq-local">
                  <package pattern="StreamSeq.*" />
                  <package pattern="streamseq" />
                  <package pattern="streamseq.*" />
                </packageSource>
                <packageSource key="restored-dependencies">
                  <package pattern="*" />
                </packageSource>
              </packageSourceMapping>
            </configuration>
            """);
    }

    /// <summary>The scratch folder (feed, artifacts, cache); deleted on dispose.</summary>
    public string Root { get; }

    /// <summary>The folder the packages are written to: the local feed.</summary>
    public string Folder { get; }

    /// <summary>The nuget.config to restore or install with (<c>--configfile</c>).</summary>
    public string ConfigFile { get; }

    /// <summary>The package version (Directory.Build.props).</summary>
    public static string Version { get; } =
        System.Xml.Linq.XDocument.Load(RepositoryFiles.Path("Directory.Build.props")).Descendants("Version").Single().Value;

    /// <summary>Environment for restores and installs: the feed's own, empty package cache.</summary>
    public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?> { ["NUGET_PACKAGES"] = Path.Combine(Root, "packages") };

    /// <summary>Packs a project of the repository (<c>src/...csproj</c>) into the feed; throws with the output when it fails.</summary>
    public void Pack(string project, params string[] properties)
    {
        var result = ProcessRunner.Run(
            "dotnet",
            ["pack", project, "-c", "Release", "-o", Folder, "--artifacts-path", Path.Combine(Root, "artifacts"), "-nologo", .. properties.Select(p => $"-p:{p}")],
            Timeout);
        if (result.Code != 0)
        {
            throw new InvalidOperationException($"dotnet pack {project} failed:\n{result}");
        }
    }

    /// <summary>Runs a dotnet command (restore, build, run, tool install) with the feed's cache, in <paramref name="directory"/>.</summary>
    public ProcessRunner.Result Dotnet(string directory, params string[] arguments) =>
        ProcessRunner.Run("dotnet", arguments, Timeout, directory, Environment);

    public void Dispose() => Directory.Delete(Root, recursive: true);

    private static string GlobalPackagesFolder() =>
        System.Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".nuget", "packages");
}
