namespace StreamSeq.Worker.Tests.Support;

/// <summary>Finds files of the repository and build outputs from the test's output folder.</summary>
internal static class RepositoryFiles
{
    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    /// <summary>The worker's entry assembly, built with the same configuration as this test assembly.</summary>
    public static string WorkerDll()
    {
        var configuration = new DirectoryInfo(System.IO.Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var dll = Path("src", "StreamSeq.Worker", "bin", configuration, "net10.0", "StreamSeq.Worker.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"worker not built at {dll}");
    }

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
