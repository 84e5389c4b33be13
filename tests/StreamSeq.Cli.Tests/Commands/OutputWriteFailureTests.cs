using System.Diagnostics;
using StreamSeq.Cli.Commands;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Commands;

/// <summary>
/// Outputs that cannot be written because the disk is full or the folder is read-only. Every output is written to a
/// hidden temporary file beside it and renamed into place; the error named that temporary file
/// (<c>.o.jsonl.&lt;guid&gt;.tmp</c>) instead of the option and the path the user gave, and <c>detect</c> printed its
/// results path on stdout although it failed.
/// </summary>
/// <remarks>
/// The tests run as root, where a folder's permissions do not stop writes, so the command runs as a separate process
/// in its own user and mount namespace (<c>unshare -rm</c>) with a real file system mounted on the output folder: a
/// tmpfs of 4 KiB (full after the first block, the kernel's "no space left on device") or a read-only one.
/// </remarks>
public sealed class OutputWriteFailureTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-full-").FullName;

    public OutputWriteFailureTests()
    {
        Mount = Path.Combine(dir, "mnt");
        Directory.CreateDirectory(Mount);
    }

    private string Mount { get; }

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [SkippableFact]
    public void Run_OutputOnAFullDisk_NamesTheOptionAndThePathNotTheTemporaryFile()
    {
        var output = Path.Combine(Mount, "o.jsonl");

        var (code, stdout, errors, left) = RunOnMount("size=4k", "run", "-m", RepositoryFiles.Path("examples", "nile.json"), "-i", RepositoryFiles.Path("examples", "nile.csv"), "-o", output);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal($"error: --output: cannot write '{output}': no space left on device.", errors.Trim());
        Assert.Equal(string.Empty, stdout);
        Assert.Equal(string.Empty, left);
    }

    [SkippableFact]
    public void Run_DeadLettersInAReadOnlyFolder_NamesTheOptionAndThePathNotTheTemporaryFile()
    {
        var deadLetters = Path.Combine(Mount, "dead.jsonl");

        var (code, _, errors, _) = RunOnMount("ro", "run", "-m", RepositoryFiles.Path("examples", "nile.json"), "-i", RepositoryFiles.Path("examples", "nile.csv"), "-o", Path.Combine(dir, "o.jsonl"), "--dead-letters", deadLetters);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal($"error: --dead-letters: cannot write '{deadLetters}': read-only file system.", errors.Trim());
    }

    [SkippableFact]
    public void Detect_OneFileOnAFullDisk_NamesTheOptionAndThePathAndPrintsNoPath()
    {
        var output = Path.Combine(Mount, "d.csv");

        var (code, stdout, errors, left) = RunOnMount("size=4k", "detect", "-i", RepositoryFiles.Path("examples", "nab-detector.csv"), "-o", output);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal($"error: --output: cannot write '{output}': no space left on device.", errors.Trim());
        Assert.Equal(string.Empty, stdout);
        Assert.Equal(string.Empty, left);
    }

    [SkippableFact]
    public void Detect_OneFileIntoAReadOnlyFolder_NamesTheOptionAndThePath()
    {
        var output = Path.Combine(Mount, "d.csv");

        var (code, stdout, errors, _) = RunOnMount("ro", "detect", "-i", RepositoryFiles.Path("examples", "nab-detector.csv"), "-o", output);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal($"error: --output: cannot write '{output}': read-only file system.", errors.Trim());
        Assert.Equal(string.Empty, stdout);
    }

    [SkippableFact]
    public void Detect_FolderIntoAReadOnlyResultsFolder_NamesTheOptionAndPrintsNoResultsPath()
    {
        var data = OneFileDataFolder();
        var results = Path.Combine(Mount, "results");

        var (code, stdout, errors, _) = RunOnMount("ro", "detect", "-i", data, "-o", results);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Contains($"error: --output: cannot write '{Path.Combine(results, "streamseq", "cat", "streamseq_a.csv")}': read-only file system. (cat/a.csv not scored)", errors.Split('\n'));
        Assert.DoesNotContain(".tmp", errors, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Detect_FolderOnAFullDisk_NamesTheOptionPrintsNoResultsPathAndLeavesNoTemporaryFile()
    {
        var data = OneFileDataFolder();
        var results = Path.Combine(Mount, "results");

        var (code, stdout, errors, left) = RunOnMount("size=4k", "detect", "-i", data, "-o", results);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Contains($"error: --output: cannot write '{Path.Combine(results, "streamseq", "cat", "streamseq_a.csv")}': no space left on device. (cat/a.csv not scored)", errors.Split('\n'));
        Assert.Equal(string.Empty, left);
    }

    [SkippableFact]
    public void Plot_FolderInAReadOnlyFolder_NamesTheOptionAndTheFolder()
    {
        var records = RunOutput();
        var charts = Path.Combine(Mount, "charts");

        var (code, stdout, errors, _) = RunOnMount("ro", "plot", "-i", records, "-m", RepositoryFiles.Path("examples", "nile.json"), "-o", charts);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal($"error: --output: cannot write '{charts}': read-only file system.", errors.Trim());
        Assert.Equal(string.Empty, stdout);
    }

    [SkippableTheory]
    [InlineData("p.png")]
    [InlineData("p.svg")]
    public void Plot_ImageOnAFullDisk_NamesTheOptionAndThePath(string name)
    {
        var records = RunOutput();
        var image = Path.Combine(Mount, name);

        var (code, _, errors, left) = RunOnMount("size=4k", "plot", "-i", records, "-m", RepositoryFiles.Path("examples", "nile.json"), "-o", image);

        Assert.Equal(CliErrors.InvalidInput, code);
        Assert.Equal($"error: --output: cannot write '{image}': no space left on device.", errors.Trim());
        Assert.Equal(string.Empty, left);
    }

    /// <summary>The output records of run on the Nile example, for plot.</summary>
    private string RunOutput()
    {
        var records = Path.Combine(dir, "nile.jsonl");
        Assert.Equal(0, RunCommand.Execute(RepositoryFiles.Path("examples", "nile.json"), RepositoryFiles.Path("examples", "nile.csv"), records, 0, 0, false, 0, false, null, TextWriter.Null, TextWriter.Null));
        return records;
    }

    /// <summary>
    /// Runs streamseq with a tmpfs mounted (with <paramref name="options"/>) on <see cref="Mount"/>; returns its exit
    /// code, stdout, stderr and the files (temporary ones, *.tmp) left on the mount after it exited.
    /// </summary>
    private (int Code, string Stdout, string Errors, string Left) RunOnMount(string options, params string[] args)
    {
        Skip.IfNot(OperatingSystem.IsLinux() && File.Exists("/usr/bin/unshare"), "needs Linux and util-linux unshare to mount a full or read-only file system");
        const string Marker = "--- left on the mount:";
        var script = $"mount -t tmpfs -o {options} none \"$0\" || exit 99; dotnet \"$@\"; code=$?; echo '{Marker}'; find \"$0\" -name '*.tmp'; exit $code";
        var start = new ProcessStartInfo("/usr/bin/unshare") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["-rm", "sh", "-c", script, Mount, Path.Combine(AppContext.BaseDirectory, "streamseq.dll"), .. args])
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(Patience), "streamseq did not exit");
        process.WaitForExit();
        Skip.If(process.ExitCode == 99 || (process.ExitCode != 0 && stderr.Result.StartsWith("unshare:", StringComparison.Ordinal)), $"cannot mount a tmpfs in a private namespace here: {stderr.Result.Trim()}");
        var output = stdout.Result;
        var marker = output.IndexOf(Marker, StringComparison.Ordinal);
        Assert.True(marker >= 0, $"exited with {process.ExitCode}: {stderr.Result}");
        return (process.ExitCode, output[..marker], stderr.Result, output[(marker + Marker.Length)..].Trim());
    }

    /// <summary>A NAB-style data folder of one category, 'cat', holding the example as 'a.csv'.</summary>
    private string OneFileDataFolder()
    {
        var data = Path.Combine(dir, "data");
        Directory.CreateDirectory(Path.Combine(data, "cat"));
        File.Copy(RepositoryFiles.Path("examples", "nab-detector.csv"), Path.Combine(data, "cat", "a.csv"));
        return data;
    }
}
