using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Packaging;

/// <summary>
/// Everything the repository publishes to NuGet, packed once per test run into one local feed: the libraries
/// (StreamSeq.Estimation, StreamSeq.Processing) and the streamseq tool, built through one artifacts folder so each
/// project compiles once. Shared by the packaging tests (<see cref="PackagingCollection"/>).
/// </summary>
public sealed class PackedRepository : IDisposable
{
    public PackedRepository()
    {
        Feed = new LocalPackageFeed("streamseq-packages-");
        foreach (var library in Libraries)
        {
            Feed.Pack(RepositoryFiles.Path("src", library, $"{library}.csproj"), "ContinuousIntegrationBuild=true");
        }

        Tool = new InstalledTool(Feed);
    }

    /// <summary>The libraries published as packages.</summary>
    public static IReadOnlyList<string> Libraries { get; } = ["StreamSeq.Estimation", "StreamSeq.Processing"];

    public LocalPackageFeed Feed { get; }

    public InstalledTool Tool { get; }

    /// <summary>A package of the feed.</summary>
    public string Package(string id, string extension = "nupkg") => Path.Combine(Feed.Folder, $"{id}.{LocalPackageFeed.Version}.{extension}");

    public void Dispose() => Feed.Dispose();
}
