namespace StreamSeq.Worker.Tests.Support;

/// <summary>A fresh temporary folder, deleted with everything in it on disposal (a file still held open is left behind).</summary>
internal sealed class TempDirectory(string prefix) : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
