using System.Diagnostics;
using StreamSeq.Cli.Commands;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Commands;

/// <summary>
/// Arguments that start with <c>@</c> are what they say: a file name, a stream id. Before, the parser read such an
/// argument as a response file (a file of more arguments) and put that file's lines in its place: <c>-i @x.csv</c>
/// was "Response file not found 'x.csv'" (or, with an x.csv beside it, its rows became arguments), and
/// <c>-o @res</c> silently wrote to the file named on the first line of <c>res</c>.
/// </summary>
public sealed class AtSignArgumentTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-at-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>Runs the built tool in <see cref="dir"/>, so that names without a folder are relative to it.</summary>
    private async Task<(int Code, string Errors)> RunToolAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "streamseq.dll"));
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        await stdout;
        return (process.ExitCode, await stderr);
    }

    [Fact]
    public async Task Run_InputAndOutputNamedWithALeadingAt_AreThoseFiles()
    {
        File.Copy(RepositoryFiles.Path("examples", "nile.csv"), Path.Combine(dir, "@x.csv"));

        var (code, errors) = await RunToolAsync("run", "-m", RepositoryFiles.Path("examples", "nile.json"), "-i", "@x.csv", "-o", "@out.jsonl");

        Assert.True(code == 0, errors);
        Assert.Equal(101, File.ReadAllLines(Path.Combine(dir, "@out.jsonl")).Length);
    }

    [Fact]
    public async Task Run_OutputNamedWithALeadingAtBesideAFileOfItsRest_IsNotReplacedByThatFilesLines()
    {
        File.WriteAllText(Path.Combine(dir, "res"), "other.jsonl\n");

        var (code, errors) = await RunToolAsync("run", "-m", RepositoryFiles.Path("examples", "nile.json"), "-i", RepositoryFiles.Path("examples", "nile.csv"), "-o", "@res");

        Assert.True(code == 0, errors);
        Assert.Equal(101, File.ReadAllLines(Path.Combine(dir, "@res")).Length);
        Assert.False(File.Exists(Path.Combine(dir, "other.jsonl")));
        Assert.Equal("other.jsonl\n", File.ReadAllText(Path.Combine(dir, "res")));
    }

    [Fact]
    public async Task Generate_StreamIdStartingWithAt_IsWrittenAsGiven()
    {
        var output = Path.Combine(dir, "g.csv");
        var errors = new StringWriter();

        var code = await CliInvocation.RunAsync(CliCommands.Root(TextWriter.Null, errors, () => Stream.Null), ["generate", "-o", output, "--length", "3", "--stream", "@sensor"], TextWriter.Null, errors);

        Assert.True(code == 0, errors.ToString());
        Assert.All(File.ReadAllLines(output).Skip(1), line => Assert.StartsWith("@sensor,", line, StringComparison.Ordinal));
    }
}
