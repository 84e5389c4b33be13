using StreamSeq.Testing;

namespace StreamSeq.Worker.Tests.Deployment;

/// <summary>
/// What the images of deploy/Dockerfile hold, published once per test run by the script the Dockerfile runs
/// (deploy/publish.sh: the worker, and the ONNX Runtime plug-in), into a private artifacts folder so the repository's
/// build outputs stay as the other tests use them. <see cref="OnnxImage"/> lays the plug-in under the worker's
/// <c>plugins</c> folder as the runtime-onnx target does.
/// </summary>
public sealed class PublishedImage : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("streamseq-image-").FullName;

    public PublishedImage()
    {
        var publish = ProcessRunner.Run(
            "bash",
            [RepositoryFiles.Path("deploy", "publish.sh"), root, "worker", "onnx", "--", "--artifacts-path", Path.Combine(root, "artifacts")],
            TimeSpan.FromMinutes(10));
        if (publish.Code != 0)
        {
            throw new InvalidOperationException($"deploy/publish.sh failed:\n{publish}");
        }

        OnnxImage = Path.Combine(root, "runtime-onnx");
        Copy(Worker, OnnxImage);
        Copy(Plugins, Path.Combine(OnnxImage, "plugins"));
    }

    /// <summary>The default image's /app.</summary>
    public string Worker => Path.Combine(root, "worker");

    /// <summary>The plug-ins the runtime-onnx image adds under /app/plugins.</summary>
    public string Plugins => Path.Combine(root, "plugins");

    /// <summary>The runtime-onnx image's /app.</summary>
    public string OnnxImage { get; }

    /// <summary>Every file under <paramref name="folder"/>, relative, with its size.</summary>
    public static List<(string Path, long Bytes)> Files(string folder) =>
        [.. Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f => (Path.GetRelativePath(folder, f).Replace('\\', '/'), new FileInfo(f).Length))
            .OrderBy(f => f.Item1, StringComparer.Ordinal)];

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static void Copy(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
