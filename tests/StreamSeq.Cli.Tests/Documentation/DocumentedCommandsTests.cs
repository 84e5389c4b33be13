using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using StreamSeq.Cli.Commands;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Documentation;

/// <summary>
/// Every shell command in README.md and docs/*.md (fenced <c>sh</c> blocks) runs as written: <c>streamseq ...</c> and
/// <c>dotnet run --project src/StreamSeq.Cli -- ...</c> run the CLI built next to these tests, as a process, in a
/// scratch folder holding a copy of examples/, one folder per page so a page's commands see each other's outputs.
/// Exit codes must be 0, and the outputs must match the schemas and the properties a user relies on
/// (<see cref="OutputChecks"/>). Commands that need a Docker engine, a cluster, external data or minutes of
/// benchmarking are listed in <see cref="CoveredElsewhere"/> with what covers them instead, and the files named there
/// must exist; any other command fails the test, so a new command in the docs cannot go untested.
/// </summary>
public sealed partial class DocumentedCommandsTests
{
    /// <summary>How each command the tests cannot run as written is covered (prefix of the command line).</summary>
    internal static readonly (string Prefix, string Coverage, string[] Evidence)[] CoveredElsewhere =
    [
        ("dotnet run --project src/StreamSeq.Worker", "the worker on the embedded broker: .ci/smoke-main.sh runs it (on the Release build .ci/run has just made) until it is ready and has committed outputs, then stops it with Ctrl+C; the worker tests start the same build (EmbeddedWorkerProcess)", [".ci/smoke-main.sh", "tests/StreamSeq.Worker.Tests/Browser/EmbeddedWorkerProcess.cs"]),
        ("dotnet test StreamSeq.sln", "the test command itself: .ci/run runs it", [".ci/run"]),
        ("dotnet pack src/StreamSeq.Cli", "packing the tool: the packaging tests pack it (this platform's package), install it from the folder and run it", ["tests/StreamSeq.Cli.Tests/Packaging/DotnetToolTests.cs"]),
        ("dotnet pack src/StreamSeq.Estimation", "packing the libraries: the packaging tests pack both, check their metadata and symbols, and restore and run the quick-start sample from them", ["tests/StreamSeq.Cli.Tests/Packaging/LibraryPackageTests.cs"]),
        ("dotnet pack src/StreamSeq.Processing", "packing the libraries, as above", ["tests/StreamSeq.Cli.Tests/Packaging/LibraryPackageTests.cs"]),
        ("dotnet tool install ", "installing the tool from a folder: the packaging tests install it with --tool-path from a local folder source and run it", ["tests/StreamSeq.Cli.Tests/Packaging/DotnetToolTests.cs"]),
        ("docker ", "needs a Docker engine: the compose file and the image layout are checked by the deployment tests, and deploy/ci/smoke-publish.sh publishes as the Dockerfile does and probes the worker", ["tests/StreamSeq.Worker.Tests/Deployment/ComposeFileTests.cs", "tests/StreamSeq.Worker.Tests/Deployment/DockerfileTests.cs", "deploy/ci/smoke-publish.sh"]),
        ("helm ", "needs a cluster: .ci/run lints and renders the chart, and the chart tests check the rendered manifests", ["tests/StreamSeq.Worker.Tests/Deployment/HelmChartTests.cs"]),
        ("kubectl ", "needs a cluster: the chart tests check the probes and service it relies on", ["tests/StreamSeq.Worker.Tests/Deployment/HelmChartTests.cs"]),
        ("curl ", "asks a running worker: the worker tests call the same endpoints", ["tests/StreamSeq.Worker.Tests/Browser/EmbeddedWorkerProcess.cs"]),
        ("cd src/StreamSeq.Worker/web", "maintainers' step that re-vendors uPlot (needs the npm registry): the dashboard asset tests check the vendored files against the lock file", ["tests/StreamSeq.Worker.Tests/Dashboard/DashboardAssetsTests.cs"]),
        ("npm ", "maintainers' step that re-vendors uPlot, as above", ["tests/StreamSeq.Worker.Tests/Dashboard/DashboardAssetsTests.cs"]),
        ("cd bench/StreamSeq.Benchmarks", "benchmarks (minutes each, results in the bench docs): .ci/run builds the bench projects with the solution", ["bench/StreamSeq.Benchmarks/StreamSeq.Benchmarks.csproj"]),
        ("dotnet run -c Release -- ", "benchmarks, as above", ["bench/StreamSeq.Benchmarks/StreamSeq.Benchmarks.csproj"]),
        ("streamseq broker", "a broker that runs until Ctrl+C for other processes: the walkthrough test runs it as written with the worker, the simulator and the reader as processes; the broker's options are checked by the read command tests", ["tests/StreamSeq.Worker.Tests/Integration/WalkthroughTests.cs", "tests/StreamSeq.Cli.Tests/Commands/ReadCommandTests.cs"]),
        ("streamseq read --bootstrap-servers", "reads a running broker: the walkthrough test runs these reads against streamseq broker and the worker; the read command tests cover formats and isolation", ["tests/StreamSeq.Worker.Tests/Integration/WalkthroughTests.cs", "tests/StreamSeq.Cli.Tests/Commands/ReadCommandTests.cs"]),
        ("streamseq simulate --bootstrap-servers", "produces to a running broker: the walkthrough test runs it against streamseq broker, the simulate tests against the embedded broker", ["tests/StreamSeq.Worker.Tests/Integration/WalkthroughTests.cs", "tests/StreamSeq.Cli.Tests/Commands/SimulateCommandTests.cs"]),
        ("streamseq run --model examples/sensors.json --input readings.jsonl", "replays the readings the walkthrough read back from the broker: the walkthrough test runs it on them", ["tests/StreamSeq.Worker.Tests/Integration/WalkthroughTests.cs"]),
        ("diff <(", "compares the walkthrough's outputs with streamseq run's: the walkthrough test compares them record by record, per stream", ["tests/StreamSeq.Worker.Tests/Integration/WalkthroughTests.cs"]),
        ("dotnet build src/StreamSeq.Cli -c Release && dotnet build bench/StreamSeq.Nab", "part of the NAB recipe, which needs NAB's data (not bundled): the scorer and the detector's results are tested by the NAB tests", ["tests/StreamSeq.Nab.Tests/NabScorerTests.cs"]),
        ("mkdir -p /tmp/nab-results", "part of the NAB recipe, as above", ["tests/StreamSeq.Nab.Tests/NabScorerTests.cs"]),
        ("dotnet bench/StreamSeq.Nab/", "part of the NAB recipe, as above", ["tests/StreamSeq.Nab.Tests/NabCommandLineTests.cs"]),
        ("NAB=", "the NAB cross-validation recipe, which needs NAB's data (not bundled): the cv tool is tested on small corpora by the cross-validation tests", ["tests/StreamSeq.Nab.Tests/CrossValidation/CrossValidationCommandTests.cs"]),
        ("$CV", "the NAB cross-validation recipe, as above", ["tests/StreamSeq.Nab.Tests/CrossValidation/CrossValidationCommandTests.cs"]),
        ("$NAB/", "a command over NAB's data folder (not bundled): the NAB tests run the detector over the corpus when it is present", ["tests/StreamSeq.Nab.Tests/NabCorpusTests.cs"]),
        ("<nab>", "a command over NAB's data folder (not bundled): the NAB tests run the detector over the corpus when it is present", ["tests/StreamSeq.Nab.Tests/NabCorpusTests.cs"]),
    ];

    /// <summary>
    /// Defects fixed elsewhere that make a documented command's output fail a property check; such a failure reports
    /// "skipped" with the reason, and the entry must go once the fix is merged (the test then fails until it does).
    /// </summary>
    internal static readonly (string Model, string Reason)[] KnownDefects =
    [
    ];

    private static readonly string[] CommandStarts = ["streamseq ", "dotnet ", "cd ", "mkdir ", "docker ", "helm ", "kubectl ", "curl ", "npm ", "alias "];

    public static TheoryData<string> Pages() => [.. MarkdownFiles().Where(p => Commands(p).Any(IsRun))];

    [SkippableTheory]
    [MemberData(nameof(Pages))]
    public void Commands_OnThePage_RunAsWrittenAndTheirOutputsHold(string page)
    {
        var commands = Commands(page).Where(c => Coverage(c) is null).ToList();
        var directory = Directory.CreateTempSubdirectory("streamseq-docs-").FullName;
        try
        {
            CopyDirectory(RepositoryFiles.Path("examples"), Path.Combine(directory, "examples"));
            Directory.CreateDirectory(Path.Combine(directory, "docs", "images"));
            var failures = new List<string>();
            var known = new List<string>();
            foreach (var command in commands)
            {
                foreach (var problem in Run(command, directory))
                {
                    var defect = KnownDefects.FirstOrDefault(d => command.Contains(d.Model, StringComparison.Ordinal));
                    (defect.Reason is null ? failures : known).Add($"{page}: `{command}`: {problem}");
                }
            }

            Assert.True(failures.Count == 0, string.Join("\n", failures));
            var expectedKnown = KnownDefects.Where(d => commands.Any(c => c.Contains(d.Model, StringComparison.Ordinal) && IsRun(c))).ToList();
            foreach (var (model, reason) in expectedKnown)
            {
                Skip.If(known.Any(k => k.Contains(model, StringComparison.Ordinal)), $"{reason}. First problem: {known.First(k => k.Contains(model, StringComparison.Ordinal))}");
                Assert.Fail($"{model} now passes every check: remove its entry from {nameof(KnownDefects)}.");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Commands_InTheDocs_AreRunOrCoveredByNamedChecks()
    {
        var unknown = new List<string>();
        foreach (var page in MarkdownFiles())
        {
            foreach (var command in Commands(page))
            {
                var coverage = Coverage(command);
                if (coverage is null && !IsRun(command) && !command.StartsWith("mkdir -p ", StringComparison.Ordinal) && !IsAlias(command))
                {
                    unknown.Add($"{page}: {command}");
                }

                foreach (var evidence in coverage?.Evidence ?? [])
                {
                    Assert.True(File.Exists(RepositoryFiles.Path(evidence)), $"{page}: `{command}` is said to be covered by {evidence}, which does not exist");
                }
            }
        }

        Assert.True(unknown.Count == 0, "commands neither run by this test nor listed as covered elsewhere:\n" + string.Join("\n", unknown));
    }

    /// <summary>The example records under the README's "Output records" are what <c>streamseq run</c> writes for the
    /// Nile example with <c>--lag 5</c>, character for character (they went stale by a digit once).</summary>
    [Fact]
    public void OutputRecordExamples_InTheReadme_AreWhatRunWritesForTheNileExample()
    {
        var shown = File.ReadAllLines(RepositoryFiles.Path("README.md")).Where(l => l.StartsWith("{\"type\":", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(shown);
        var directory = Directory.CreateTempSubdirectory("streamseq-readme-records-").FullName;
        try
        {
            var output = Path.Combine(directory, "nile.jsonl");
            Assert.Equal(0, RunCommand.Execute(RepositoryFiles.Path("examples", "nile.json"), RepositoryFiles.Path("examples", "nile.csv"), output, 5, 0, false, 0, false, null, TextWriter.Null, TextWriter.Null));
            var written = File.ReadAllLines(output).ToHashSet(StringComparer.Ordinal);
            foreach (var line in shown)
            {
                Assert.True(written.Contains(line), $"README.md shows a record that streamseq run -m examples/nile.json -i examples/nile.csv --lag 5 does not write:\n{line}\nit writes:\n{string.Join("\n", written.Where(w => w.StartsWith(line[..line.IndexOf(",\"model\"", StringComparison.Ordinal)], StringComparison.Ordinal)))}");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Shell commands outside <c>sh</c> blocks would escape the test: code blocks that hold one must be tagged
    /// <c>sh</c> (or <c>text</c> for a synopsis).</summary>
    [Fact]
    public void CodeBlocks_WithCommands_AreTaggedSh()
    {
        var untagged = new List<string>();
        foreach (var page in MarkdownFiles())
        {
            foreach (Match block in FenceRegex().Matches(File.ReadAllText(RepositoryFiles.Path(page))))
            {
                if (block.Groups[1].Value.Length == 0 && block.Groups[2].Value.Split('\n').Any(l => CommandStarts.Any(s => l.StartsWith(s, StringComparison.Ordinal))))
                {
                    untagged.Add($"{page}: {block.Groups[2].Value.Split('\n')[0]}");
                }
            }
        }

        Assert.True(untagged.Count == 0, "untagged code blocks with commands:\n" + string.Join("\n", untagged));
    }

    /// <summary>README commands write outside the tracked tree: into out/ (ignored by git) unless they regenerate a
    /// bundled file on purpose (an existing file of the repository, such as the README figure).</summary>
    [Fact]
    public void Commands_InTheDocs_WriteIntoOutOrRegenerateABundledFile()
    {
        var offending = new List<string>();
        foreach (var page in MarkdownFiles())
        {
            foreach (var command in Commands(page).Where(IsRun))
            {
                var args = Split(CliArguments(command)!);
                for (var i = 0; i < args.Count - 1; i++)
                {
                    if (args[i] is "-o" or "--output" or "--dead-letters")
                    {
                        var path = args[i + 1];
                        if (!path.StartsWith("out/", StringComparison.Ordinal) && !File.Exists(RepositoryFiles.Path(path.Split('/'))))
                        {
                            offending.Add($"{page}: `{command}` writes {path}");
                        }
                    }
                }
            }
        }

        Assert.True(offending.Count == 0, string.Join("\n", offending));
        Assert.Contains("/out/", File.ReadAllLines(RepositoryFiles.Path(".gitignore")));
    }

    private static IEnumerable<string> MarkdownFiles() =>
        new[] { "README.md" }.Concat(Directory.GetFiles(RepositoryFiles.Path("docs"), "*.md").Order(StringComparer.Ordinal).Select(f => "docs/" + Path.GetFileName(f)));

    /// <summary>The commands of a page's <c>sh</c> blocks: continuation lines joined, comments dropped.</summary>
    internal static List<string> Commands(string page)
    {
        var result = new List<string>();
        foreach (Match block in FenceRegex().Matches(File.ReadAllText(RepositoryFiles.Path(page.Split('/')))))
        {
            if (block.Groups[1].Value != "sh")
            {
                continue;
            }

            var pending = new StringBuilder();
            foreach (var raw in block.Groups[2].Value.Split('\n'))
            {
                var line = raw.TrimEnd();
                if (pending.Length == 0 && (line.Length == 0 || line.TrimStart().StartsWith('#')))
                {
                    continue;
                }

                if (line.EndsWith('\\'))
                {
                    pending.Append(line[..^1].Trim()).Append(' ');
                    continue;
                }

                pending.Append(StripComment(line).Trim());
                result.Add(Regex.Replace(pending.ToString(), @"\s+", " "));
                pending.Clear();
            }
        }

        return result;
    }

    private static (string Prefix, string Coverage, string[] Evidence)? Coverage(string command)
    {
        foreach (var entry in CoveredElsewhere)
        {
            if (command.StartsWith(entry.Prefix, StringComparison.Ordinal) || (entry.Prefix[0] is '<' or '$' && command.Contains(entry.Prefix, StringComparison.Ordinal)))
            {
                return entry;
            }
        }

        return null;
    }

    private static bool IsRun(string command) => CliArguments(command) is not null && Coverage(command) is null;

    private static bool IsAlias(string command) => command == "alias streamseq='dotnet run --project src/StreamSeq.Cli -c Release --'";

    /// <summary>The CLI arguments of a command that runs the CLI, or null.</summary>
    private static string? CliArguments(string command)
    {
        foreach (var prefix in new[] { "streamseq ", "dotnet run --project src/StreamSeq.Cli -c Release -- ", "dotnet run --project src/StreamSeq.Cli -- " })
        {
            if (command.StartsWith(prefix, StringComparison.Ordinal))
            {
                return command[prefix.Length..];
            }
        }

        return null;
    }

    private static List<string> Run(string command, string directory)
    {
        if (command.StartsWith("mkdir -p ", StringComparison.Ordinal))
        {
            Directory.CreateDirectory(Path.Combine(directory, command["mkdir -p ".Length..]));
            return [];
        }

        if (IsAlias(command))
        {
            return [];
        }

        var args = Split(CliArguments(command) ?? throw new InvalidOperationException($"not a CLI command: {command}"));
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CliDll());
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            return ["did not finish within 5 minutes"];
        }

        if (process.ExitCode != 0)
        {
            return [$"exit code {process.ExitCode}: {stderr.Result.Trim()}"];
        }

        var problems = new List<string>();
        for (var i = 0; i < args.Count - 1; i++)
        {
            if (args[i] is "-o" or "--output")
            {
                problems.AddRange(OutputChecks.Check(Path.Combine(directory, args[i + 1]), args[0]));
                problems.AddRange(RegeneratedExample(directory, args[i + 1]));
            }
        }

        _ = stdout.Result;
        return problems;
    }

    /// <summary>
    /// A documented command that writes a bundled example (the training recipe regenerates examples/recurrent-nar.*)
    /// must write it as the repository holds it, byte for byte: otherwise the docs describe a file the recipe does not
    /// make (as when the trained spec's description was edited by hand after training).
    /// </summary>
    private static IEnumerable<string> RegeneratedExample(string directory, string output)
    {
        if (!output.StartsWith("examples/", StringComparison.Ordinal) || !File.Exists(RepositoryFiles.Path(output.Split('/'))))
        {
            yield break;
        }

        var bundled = File.ReadAllBytes(RepositoryFiles.Path(output.Split('/')));
        var written = File.ReadAllBytes(Path.Combine(directory, output));
        if (!bundled.AsSpan().SequenceEqual(written))
        {
            yield return $"regenerates the bundled {output} differently ({written.Length} bytes, the repository's {bundled.Length}): commit the regenerated file or fix the recipe";
        }
    }

    private static string CliDll()
    {
        var next = Path.Combine(AppContext.BaseDirectory, "streamseq.dll");
        return File.Exists(next) ? next : RepositoryFiles.Path("src", "StreamSeq.Cli", "bin", RepositoryFiles.Configuration, "net10.0", "streamseq.dll");
    }

    /// <summary>Splits a command line the way a POSIX shell splits these simple ones (quotes group, no expansions).</summary>
    private static List<string> Split(string arguments)
    {
        var result = new List<string>();
        var current = new StringBuilder();
        char? quote = null;
        var any = false;
        foreach (var c in arguments)
        {
            if (quote is not null)
            {
                if (c == quote)
                {
                    quote = null;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c is '\'' or '"')
            {
                quote = c;
                any = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (current.Length > 0 || any)
                {
                    result.Add(current.ToString());
                    current.Clear();
                    any = false;
                }
            }
            else
            {
                current.Append(c);
            }
        }

        if (current.Length > 0 || any)
        {
            result.Add(current.ToString());
        }

        return result;
    }

    private static string StripComment(string line)
    {
        var index = line.IndexOf(" #", StringComparison.Ordinal);
        return index < 0 ? line : line[..index];
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    [GeneratedRegex(@"^```(\w*)\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex FenceRegex();
}
