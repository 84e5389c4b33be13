namespace StreamSeq.Processing.Tests.Views;

/// <summary>Finds the repository's bundled examples from the test output folder.</summary>
internal static class RepositoryExamples
{
    public static string Path(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "StreamSeq.sln")))
        {
            dir = dir.Parent;
        }

        return System.IO.Path.Combine(dir?.FullName ?? throw new InvalidOperationException("StreamSeq.sln not found above the test output folder."), "examples", name);
    }
}
