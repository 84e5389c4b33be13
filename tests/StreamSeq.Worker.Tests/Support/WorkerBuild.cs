using StreamSeq.Testing;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>The worker's build output, for tests that run it as a process.</summary>
internal static class WorkerBuild
{
    /// <summary>The worker's entry assembly, built with the same configuration as this test assembly.</summary>
    public static string Dll()
    {
        var dll = RepositoryFiles.Path("src", "StreamSeq.Worker", "bin", RepositoryFiles.Configuration, "net10.0", "StreamSeq.Worker.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"worker not built at {dll}");
    }
}
