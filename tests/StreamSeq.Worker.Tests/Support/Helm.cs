using System.Diagnostics;
using StreamSeq.Testing;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>Runs the helm binary: STREAMSEQ_HELM, else .tools/helm in the repository (installed by .ci/run), else PATH.</summary>
internal static class Helm
{
    public static string? Binary { get; } = Find();

    public static string ChartPath => RepositoryFiles.Path("helm", "streamseq");

    public static string MissingMessage =>
        "helm not found: set STREAMSEQ_HELM, put helm on PATH, or run .ci/run (it installs helm into .tools/).";

    /// <summary>Runs <c>helm template</c>; returns the exit code, the manifests and the error output.</summary>
    public static (int Code, string Output, string Errors) Template(params string[] arguments) => TemplateRelease("ci", arguments);

    /// <summary>Runs <c>helm template</c> for a release of the given name.</summary>
    public static (int Code, string Output, string Errors) TemplateRelease(string release, params string[] arguments)
    {
        var start = new ProcessStartInfo(Binary ?? throw new InvalidOperationException(MissingMessage))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["template", release, ChartPath, .. arguments])
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill();
            throw new TimeoutException("helm template did not finish within 2 minutes.");
        }

        return (process.ExitCode, output.Result, errors.Result);
    }

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("STREAMSEQ_HELM") is { Length: > 0 } configured && File.Exists(configured))
        {
            return configured;
        }

        var local = RepositoryFiles.Path(".tools", "helm");
        if (File.Exists(local))
        {
            return local;
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, "helm"))
            .FirstOrDefault(File.Exists);
    }
}
