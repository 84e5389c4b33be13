namespace StreamSeq.Testing;

/// <summary>
/// Finds files of the repository (examples, schemas, build outputs) from a test's output folder. Linked into every
/// test project that needs it (tests/Shared).
/// </summary>
internal static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>The build configuration of the running test assembly (Debug or Release).</summary>
    public static string Configuration =>
        new DirectoryInfo(System.IO.Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "StreamSeq.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("StreamSeq.sln not found above the test output folder.");
    }
}
