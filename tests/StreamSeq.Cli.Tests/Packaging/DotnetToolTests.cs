using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using StreamSeq.Cli.Commands;
using StreamSeq.Cli.Tests.Plotting;
using StreamSeq.Testing;
using Xunit.Abstractions;

namespace StreamSeq.Cli.Tests.Packaging;

/// <summary>
/// <c>dotnet tool install streamseq</c> from a local folder, then the installed command: its version, a run on a
/// bundled example, an ONNX Runtime model and a plot (the platform package's native libraries at work).
/// </summary>
[Collection(PackagingCollection.Name)]
public sealed class DotnetToolTests(PackedRepository packed, ITestOutputHelper log) : IDisposable
{
    private readonly InstalledTool tool = packed.Tool;
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-tool-run-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [SkippableFact]
    public void Version_InstalledTool_PrintsThePackageVersionAndTheCommitItWasBuiltFrom()
    {
        SkipUnlessPacked();
        var result = tool.Run("--version");
        Assert.True(result.Code == 0, result.ToString());

        // The commit comes from git at build time; outside a git checkout the version stands alone.
        var commit = ProcessRunner.GitHead();
        Assert.Equal(commit is null ? tool.Version : $"{tool.Version}+{commit}", result.Output.Trim());
    }

    [SkippableFact]
    public void Run_BundledExample_WritesTheSameBytesAsTheCommandRunInProcess()
    {
        SkipUnlessPacked();
        var model = RepositoryFiles.Path("examples", "sensors.json");
        var input = RepositoryFiles.Path("examples", "sensors.csv");
        var installed = Path.Combine(dir, "installed.jsonl");
        var result = tool.Run("run", "--model", model, "--input", input, "--output", installed, "--lag", "5", "--horizon", "2");
        Assert.True(result.Code == 0, result.ToString());

        var inProcess = Path.Combine(dir, "in-process.jsonl");
        Assert.Equal(0, RunCommand.Execute(model, input, inProcess, 5, 2, false, 0, false, null, TextWriter.Null, TextWriter.Null));
        var lines = File.ReadAllLines(installed);
        Assert.Contains(lines, l => l.StartsWith("{\"type\":\"smoothed\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("{\"type\":\"forecast\"", StringComparison.Ordinal));
        Assert.Equal(File.ReadAllBytes(inProcess), File.ReadAllBytes(installed));
    }

    [SkippableFact]
    public void Run_OnnxRecurrentModel_RunsOnThePackagedOnnxRuntimeAndMatchesTheManagedEngine()
    {
        SkipUnlessPacked();
        var fixtures = RepositoryFiles.Path("tests", "StreamSeq.Estimation.Tests", "Fixtures", "rnn");
        File.Copy(Path.Combine(fixtures, "lstm_model.onnx"), Path.Combine(dir, "lstm_model.onnx"));
        File.Copy(Path.Combine(fixtures, "lstm_weights.json"), Path.Combine(dir, "lstm_weights.json"));
        const string layout = """ "controlDimension":1,"head":{"type":"point","variance":[0.5,2]} """;
        File.WriteAllText(Path.Combine(dir, "onnx.json"), $$"""{"name":"net","kind":"onnx-recurrent","model":"lstm_model.onnx",{{layout}}}""");
        File.WriteAllText(Path.Combine(dir, "managed.json"), $$"""{"name":"net","kind":"recurrent","cell":"lstm","inputSize":3,"hiddenSize":8,"layers":2,"precision":"single","weights":"lstm_weights.json",{{layout}}}""");
        File.WriteAllLines(Path.Combine(dir, "in.jsonl"), Enumerable.Range(1, 30).Select(t => string.Create(CultureInfo.InvariantCulture, $$"""{"stream":"s","time":{{t}},"values":[{{Math.Sin(0.3 * t):R}},{{Math.Cos(0.2 * t):R}}],"control":[{{0.1 * (t % 5):R}}]}""")));

        var means = new Dictionary<string, List<double[]>>();
        foreach (var spec in new[] { "onnx", "managed" })
        {
            var output = Path.Combine(dir, spec + ".jsonl");
            var result = tool.Run("run", "--model", Path.Combine(dir, spec + ".json"), "--input", Path.Combine(dir, "in.jsonl"), "--output", output);
            Assert.True(result.Code == 0, result.ToString());
            means[spec] = [.. File.ReadLines(output).Select(l => JsonDocument.Parse(l).RootElement)
                .Where(r => r.GetProperty("type").GetString() == "filtered")
                .Select(r => r.GetProperty("observation").GetProperty("mean").EnumerateArray().Select(v => v.GetDouble()).ToArray())];
        }

        Assert.Equal(30, means["onnx"].Count);
        Assert.Equal(30, means["managed"].Count);
        for (var t = 0; t < 30; t++)
        {
            for (var j = 0; j < 2; j++)
            {
                Assert.True(Math.Abs(means["onnx"][t][j] - means["managed"][t][j]) < 1e-5, $"step {t}, component {j}: onnx {means["onnx"][t][j]}, managed {means["managed"][t][j]}");
            }
        }
    }

    [SkippableFact]
    public void Plot_BundledExample_DrawsAPngWithThePackagedSkia()
    {
        SkipUnlessPacked();
        var model = RepositoryFiles.Path("examples", "sensors.json");
        var observations = RepositoryFiles.Path("examples", "sensors.csv");
        var records = Path.Combine(dir, "records.jsonl");
        Assert.Equal(0, RunCommand.Execute(model, observations, records, 5, 2, false, 0, false, null, TextWriter.Null, TextWriter.Null));
        var png = Path.Combine(dir, "plot.png");
        var result = tool.Run("plot", "--input", records, "--observations", observations, "--model", model, "--output", png, "--stream", "temperature-0000", "--width", "640", "--height", "360");
        Assert.True(result.Code == 0, result.ToString());
        Assert.Equal((640, 360), PngHeader.Size(png));
    }

    [SkippableFact]
    public void Pack_PlatformPackage_CarriesThisPlatformsNativeLibrariesOnlyAndNoApiDocs()
    {
        SkipUnlessPacked();
        using var package = ZipFile.OpenRead(tool.PlatformPackage);
        var prefix = $"tools/net10.0/{tool.RuntimeIdentifier}/";
        var files = package.Entries.Where(e => e.FullName.StartsWith("tools/", StringComparison.Ordinal)).Select(e => e.FullName).ToList();
        Assert.All(files, f => Assert.StartsWith(prefix, f, StringComparison.Ordinal));
        var names = files.Select(f => f[prefix.Length..]).ToHashSet(StringComparer.Ordinal);
        foreach (var library in new[] { "onnxruntime", "SkiaSharp", "HarfBuzzSharp", "librdkafka" })
        {
            Assert.Contains(names, n => !n.Contains('/', StringComparison.Ordinal) && n.Contains(library, StringComparison.Ordinal) && IsNative(n));
        }

        Assert.DoesNotContain(names, n => n.EndsWith(".xml", StringComparison.Ordinal) && !n.Equals("DotnetToolSettings.xml", StringComparison.Ordinal));
        Assert.DoesNotContain("alpine-librdkafka.so", names);

        // RocksDB is the worker's disk store; no command opens one, so its native builds (50 MB on linux-x64) stay out.
        Assert.DoesNotContain(names, n => n.Contains("rocksdb", StringComparison.OrdinalIgnoreCase) && IsNative(n));
        Assert.DoesNotContain(names, n => n.StartsWith("runtimes/", StringComparison.Ordinal) || n.EndsWith(".resources.dll", StringComparison.Ordinal));
        log.WriteLine($"{Path.GetFileName(tool.PlatformPackage)}: {new FileInfo(tool.PlatformPackage).Length / 1e6:F1} MB packed, {package.Entries.Sum(e => e.Length) / 1e6:F1} MB installed, {files.Count} files");
    }

    private static bool IsNative(string name) =>
        name.EndsWith(".so", StringComparison.Ordinal) || name.EndsWith(".dylib", StringComparison.Ordinal)
        || (name.EndsWith(".dll", StringComparison.Ordinal) && !name.Contains("Sharp.dll", StringComparison.Ordinal) && !name.StartsWith("Microsoft.", StringComparison.Ordinal));

    private void SkipUnlessPacked() =>
        Skip.If(tool.Command is null, $"the tool is packed for {string.Join(", ", tool.RuntimeIdentifiers)}, not for {tool.RuntimeIdentifier}");
}
