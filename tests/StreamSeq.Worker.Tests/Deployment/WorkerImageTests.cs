using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using StreamSeq.Testing;
using StreamSeq.Worker.Hosting;
using StreamSeq.Worker.Plugins;
using StreamSeq.Worker.Tests.Support;
using Xunit.Abstractions;

namespace StreamSeq.Worker.Tests.Deployment;

/// <summary>
/// The worker images' contents from <c>dotnet publish</c> as deploy/Dockerfile runs it: the default image carries no
/// plotting, no ONNX Runtime and no PDB or XML files; the ONNX Runtime plug-in of the runtime-onnx image runs
/// onnx-recurrent models, and without it such a model stops the start with one line naming the plug-in.
/// </summary>
public sealed class WorkerImageTests(PublishedImage image, ITestOutputHelper log) : IClassFixture<PublishedImage>, IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-image-run-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Worker_PublishedAsTheDockerfileDoes_CarriesNoPlottingOnnxRuntimeSymbolsOrDocs()
    {
        var files = PublishedImage.Files(image.Worker);
        log.WriteLine($"worker image /app: {files.Count} files, {files.Sum(f => f.Bytes) / 1e6:F1} MB");
        foreach (var (path, bytes) in files)
        {
            log.WriteLine($"{bytes,12:N0}  {path}");
        }

        var names = files.Select(f => f.Path).ToList();
        Assert.DoesNotContain(names, n => n.Contains("skia", StringComparison.OrdinalIgnoreCase) || n.Contains("harfbuzz", StringComparison.OrdinalIgnoreCase) || n.Contains("scottplot", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(names, n => n.Contains("onnx", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(names, n => n.EndsWith(".pdb", StringComparison.Ordinal) || n.EndsWith(".xml", StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n.StartsWith("wwwroot/", StringComparison.Ordinal) || n.StartsWith("plugins/", StringComparison.Ordinal));
        Assert.DoesNotContain("streamseq.dll", names);
        Assert.Equal(["centos8-librdkafka.so"], names.Where(n => n.Contains("librdkafka", StringComparison.Ordinal)));
        Assert.Equal(["librocksdb.so"], names.Where(n => n.Contains("librocksdb", StringComparison.Ordinal)));
        Assert.Contains("StreamSeq.Worker.dll", names);
        Assert.Contains("appsettings.json", names);
    }

    [Fact]
    public void Run_DiskStore_LoadsTheImagesOnlyRocksDbBuildAndCommitsEveryReading()
    {
        // The image keeps one of RocksDB's native builds; the disk store must open with it (the loader does not
        // need the jemalloc or musl builds to be present) and the worker must process and commit as with memory.
        using var bed = new KafkaTestBed("image-rocksdb");
        var input = TestInput.Generate(streams: 6, perStream: 8, seed: 5);
        bed.Produce(input);
        var settings = WorkerProcess.Settings(bed, "image-rocksdb-1", commitInterval: "00:00:00.200");
        var processing = settings["Processing"]!.AsObject();
        processing["StateStore"] = "rocksdb";
        processing["StateDirectory"] = Path.Combine(dir, "state");
        using var worker = WorkerProcess.Start(settings, Path.Combine(dir, "rocksdb"), Path.Combine(image.Worker, "StreamSeq.Worker.dll"));
        Assert.True(worker.WaitReady(TimeSpan.FromSeconds(120)), $"the worker did not become ready:\n{worker.Logs()}");
        bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(120), worker.Logs);

        var mapped = File.ReadAllLines($"/proc/{worker.ProcessId}/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6 && fields[5].Contains("librocksdb", StringComparison.Ordinal))
            .Select(fields => fields[5])
            .Distinct()
            .ToList();
        Assert.Equal([Path.Combine(image.Worker, "librocksdb.so")], mapped);
        Assert.Equal(0, worker.Stop(TimeSpan.FromSeconds(60)));
        Assert.NotEmpty(Directory.EnumerateFileSystemEntries(Path.Combine(dir, "state")));
    }

    [Fact]
    public void OnnxPlugin_PublishedAsTheDockerfileDoes_CarriesOnnxRuntimeForLinuxOnly()
    {
        var folder = Path.Combine(image.Plugins, ModelKindPlugins.KnownKinds["onnx-recurrent"]);
        var files = PublishedImage.Files(folder);
        log.WriteLine($"ONNX plug-in: {files.Count} files, {files.Sum(f => f.Bytes) / 1e6:F1} MB");
        var names = files.Select(f => f.Path).ToList();
        Assert.Contains("StreamSeq.Estimation.Onnx.dll", names);
        Assert.Contains("StreamSeq.Estimation.Onnx.deps.json", names);
        Assert.Contains("Microsoft.ML.OnnxRuntime.dll", names);
        Assert.Contains("libonnxruntime.so", names);
        Assert.DoesNotContain(names, n => n.StartsWith("onnxruntime", StringComparison.Ordinal) && n.EndsWith(".dll", StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n.EndsWith(".pdb", StringComparison.Ordinal) || n.EndsWith(".xml", StringComparison.Ordinal) || n.StartsWith("runtimes/", StringComparison.Ordinal));
    }

    [Fact]
    public void Start_OnnxModelWithoutThePlugin_StopsWithOneLineNamingThePlugin()
    {
        var settings = Settings("localhost:1", onnxOnly: true);
        File.WriteAllText(Path.Combine(dir, "appsettings.json"), new JsonObject { ["StreamSeq"] = settings }.ToJsonString());
        var result = ProcessRunner.Run("dotnet", [Path.Combine(image.Worker, "StreamSeq.Worker.dll")], TimeSpan.FromMinutes(2), dir);
        Assert.Equal(WorkerExitCodes.CannotStart, result.Code);
        var line = Assert.Single(result.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("'onnx-recurrent' models need the StreamSeq.Estimation.Onnx plug-in, which is not installed", line, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(image.Worker, ModelKindPlugins.DefaultFolder), line, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_PluginPathThatIsNotADirectory_StopsWithOneLineNamingTheVariable()
    {
        var missing = Path.Combine(dir, "no-such-folder");
        var result = ProcessRunner.Run("dotnet", [Path.Combine(image.OnnxImage, "StreamSeq.Worker.dll")], TimeSpan.FromMinutes(2), dir, new Dictionary<string, string?> { [ModelKindPlugins.PathVariable] = missing });
        Assert.Equal(WorkerExitCodes.CannotStart, result.Code);
        Assert.Equal($"streamseq worker: {ModelKindPlugins.PathVariable}: '{missing}' is not a directory.", result.Errors.Trim());
    }

    [Fact]
    public async Task Run_OnnxImage_OnnxRecurrentModelMatchesTheManagedEngineAndStatusNamesVersionAndCommit()
    {
        using var bed = new KafkaTestBed("image-onnx");
        const int Steps = 25;
        var input = new List<(string Stream, string Value)>();
        for (var t = 1; t <= Steps; t++)
        {
            foreach (var s in new[] { "a", "b" })
            {
                var phase = s == "a" ? 0.0 : 1.0;
                var value = string.Create(CultureInfo.InvariantCulture, $$"""{"time":{{t * 1000}},"values":[{{Math.Sin((0.3 * t) + phase):R}},{{Math.Cos(0.2 * t):R}}],"control":[{{0.1 * (t % 5):R}}]}""");
                input.Add(($"onnx-{s}", value));
                input.Add(($"managed-{s}", value));
            }
        }

        bed.Produce(input);
        using var worker = WorkerProcess.Start(Settings(bed.Cluster.BootstrapServers, onnxOnly: false, bed.Options.GroupId), Path.Combine(dir, "run"), Path.Combine(image.OnnxImage, "StreamSeq.Worker.dll"));
        Assert.True(worker.WaitReady(TimeSpan.FromSeconds(120)), $"the worker did not become ready:\n{worker.Logs()}");
        bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(120), worker.Logs);

        var filtered = bed.ReadCommitted(bed.Options.FilteredTopic);
        foreach (var s in new[] { "a", "b" })
        {
            var onnx = Means(filtered[$"onnx-{s}"]);
            var managed = Means(filtered[$"managed-{s}"]);
            Assert.Equal(Steps, onnx.Count);
            Assert.Equal(Steps, managed.Count);
            for (var t = 0; t < Steps; t++)
            {
                for (var j = 0; j < 2; j++)
                {
                    Assert.True(Math.Abs(onnx[t][j] - managed[t][j]) < 1e-5, $"stream {s}, step {t}, component {j}: onnx {onnx[t][j]}, managed {managed[t][j]}");
                }
            }
        }

        using var http = new HttpClient();
        var status = await http.GetFromJsonAsync<JsonElement>(new Uri($"http://127.0.0.1:{worker.Port}/api/status"));
        var version = XDocument.Load(RepositoryFiles.Path("Directory.Build.props")).Descendants("Version").Single().Value;
        Assert.Equal(version, status.GetProperty("version").GetString());
        var commit = ProcessRunner.GitHead();
        Assert.Equal(commit, status.GetProperty("commit").GetString());
    }

    private static List<double[]> Means(List<string> records) =>
        [.. records.Select(r => JsonDocument.Parse(r).RootElement)
            .Select(r => r.GetProperty("observation").GetProperty("mean").EnumerateArray().Select(v => v.GetDouble()).ToArray())];

    /// <summary>Worker settings with the oracle LSTM as an ONNX graph and, unless <paramref name="onnxOnly"/>, as managed weights.</summary>
    private JsonObject Settings(string bootstrap, bool onnxOnly, string group = "image-test")
    {
        // Specs in a folder (as a mounted ConfigMap); the weights they name beside it, relative to the spec files.
        var models = Path.Combine(dir, "models");
        var weights = Path.Combine(dir, "weights");
        Directory.CreateDirectory(models);
        Directory.CreateDirectory(weights);
        var fixtures = RepositoryFiles.Path("tests", "StreamSeq.Estimation.Tests", "Fixtures", "rnn");
        File.Copy(Path.Combine(fixtures, "lstm_model.onnx"), Path.Combine(weights, "lstm_model.onnx"), overwrite: true);
        File.Copy(Path.Combine(fixtures, "lstm_weights.json"), Path.Combine(weights, "lstm_weights.json"), overwrite: true);
        const string Layout = """ "controlDimension":1,"head":{"type":"point","variance":[0.5,2]} """;
        File.WriteAllText(Path.Combine(models, "onnx.json"), $$"""{"name":"onnx","kind":"onnx-recurrent","model":"../weights/lstm_model.onnx",{{Layout}}}""");
        var routes = new JsonArray(new JsonObject { ["Model"] = "onnx", ["StreamPattern"] = "onnx-*" });
        if (!onnxOnly)
        {
            File.WriteAllText(Path.Combine(models, "managed.json"), $$"""{"name":"managed","kind":"recurrent","cell":"lstm","inputSize":3,"hiddenSize":8,"layers":2,"precision":"single","weights":"../weights/lstm_weights.json",{{Layout}}}""");
            routes.Add(new JsonObject { ["Model"] = "managed", ["StreamPattern"] = "managed-*" });
        }

        var settings = ProcessWorkerSettings.OnTestBed(bootstrap, group, "image-1");
        settings["ModelFiles"] = new JsonArray(models);
        settings["Routes"] = routes;
        return settings;
    }
}
