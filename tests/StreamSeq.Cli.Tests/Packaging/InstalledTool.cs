using System.Runtime.InteropServices;
using System.Xml.Linq;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Packaging;

/// <summary>
/// The streamseq tool as a user gets it: packed into <see cref="PackedRepository"/>'s local feed (this machine's
/// platform package only, to keep the run short) and installed from it with <c>dotnet tool install --tool-path</c>,
/// the feed being the only source of StreamSeq packages.
/// </summary>
public sealed class InstalledTool
{
    private readonly LocalPackageFeed feed;

    internal InstalledTool(LocalPackageFeed feed)
    {
        this.feed = feed;
        RuntimeIdentifiers = XDocument.Load(Project).Descendants("ToolPackageRuntimeIdentifiers").Single().Value.Split(';');
        RuntimeIdentifier = RuntimeInformation.RuntimeIdentifier;
        if (!RuntimeIdentifiers.Contains(RuntimeIdentifier))
        {
            return;
        }

        feed.Pack(Project, $"ToolPackageRuntimeIdentifiers={RuntimeIdentifier}", "ContinuousIntegrationBuild=true");
        var tools = Path.Combine(feed.Root, "tools");
        var install = feed.Dotnet(feed.Root, "tool", "install", "streamseq", "--version", Version, "--tool-path", tools, "--configfile", feed.ConfigFile);
        if (install.Code != 0)
        {
            throw new InvalidOperationException($"dotnet tool install failed:\n{install}");
        }

        Command = Path.Combine(tools, OperatingSystem.IsWindows() ? "streamseq.exe" : "streamseq");
    }

    public static string Project => RepositoryFiles.Path("src", "StreamSeq.Cli", "StreamSeq.Cli.csproj");

    /// <summary>The package version (Directory.Build.props).</summary>
    public string Version => LocalPackageFeed.Version;

    /// <summary>The platforms the project packs for.</summary>
    public IReadOnlyList<string> RuntimeIdentifiers { get; }

    /// <summary>This machine's platform.</summary>
    public string RuntimeIdentifier { get; }

    /// <summary>The installed command; null when this platform is not packed.</summary>
    public string? Command { get; }

    /// <summary>The platform package's path.</summary>
    public string PlatformPackage => Path.Combine(feed.Folder, $"streamseq.{RuntimeIdentifier}.{Version}.nupkg");

    /// <summary>Runs the installed command.</summary>
    public ProcessRunner.Result Run(params string[] arguments) =>
        ProcessRunner.Run(Command ?? throw new InvalidOperationException("not installed"), arguments, TimeSpan.FromMinutes(3), feed.Root);
}
