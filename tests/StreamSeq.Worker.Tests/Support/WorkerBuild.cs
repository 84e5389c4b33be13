using StreamSeq.Testing;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>The worker's and the CLI's build outputs, for tests that run them as processes.</summary>
internal static class WorkerBuild
{
    /// <summary>The worker's entry assembly, built with the same configuration as this test assembly.</summary>
    public static string Dll()
    {
        var dll = RepositoryFiles.Path("src", "StreamSeq.Worker", "bin", RepositoryFiles.Configuration, "net10.0", "StreamSeq.Worker.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"worker not built at {dll}");
    }

    /// <summary>The <c>streamseq</c> command's entry assembly, built with the same configuration as this test assembly.</summary>
    public static string Cli()
    {
        var dll = RepositoryFiles.Path("src", "StreamSeq.Cli", "bin", RepositoryFiles.Configuration, "net10.0", "streamseq.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"streamseq not built at {dll}");
    }
}
