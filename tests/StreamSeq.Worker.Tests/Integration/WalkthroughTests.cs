using System.Globalization;
using System.Net;
using System.Text.Json;
using StreamSeq.Testing;
using StreamSeq.Worker.Tests.Support;
using Xunit.Abstractions;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>
/// The walkthrough of docs/worker.md, "Verify exactly-once", as separate processes over TCP: <c>streamseq broker</c>,
/// the worker (as shipped, pointed at the broker), <c>streamseq simulate</c>, and <c>streamseq read</c> following
/// the outputs; then the input read back and replayed with <c>streamseq run</c> gives the same records, per stream,
/// byte for byte.
/// </summary>
public sealed class WalkthroughTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private readonly Scratch scratch = new("streamseq-walk-");

    public void Dispose() => scratch.Dispose();

    [Fact]
    public void Walkthrough_BrokerWorkerSimulatorAndReaderAsProcesses_OutputsEqualStreamseqRunOverTheSameInput()
    {
        const int Streams = 6;
        const int Rounds = 80;
        const int Readings = Streams * Rounds;
        var port = Scratch.FreePort();
        var bootstrap = $"127.0.0.1:{port}";

        using var broker = CliProcess.Start(WorkerBuild.Cli(), ["broker", "--port", $"{port}", "--worker-topics", "--partitions", "4"], File("broker.out"));
        Assert.Equal(bootstrap, broker.FirstLine(Patience));

        // The worker exactly as shipped (its appsettings.json: demo models, routes, lag 5, horizon 3), on the broker.
        var http = Scratch.FreePort();
        using var worker = CliProcess.Start(WorkerBuild.Dll(), [$"--StreamSeq:Kafka:BootstrapServers={bootstrap}", $"--Urls=http://127.0.0.1:{http}"], File("worker.out"));
        WaitReady(worker, http);

        // Read the outputs while they are produced: the embedded broker keeps only the newest ~5 MiB per partition.
        using var reader = CliProcess.Start(WorkerBuild.Cli(), ["read", "--bootstrap-servers", bootstrap, "--topic", "streamseq.filtered", "--from-beginning", "--follow", "--max-records", $"{Readings}"], File("filtered.jsonl"));
        Assert.Equal(0, CliProcess.Run(["simulate", "--bootstrap-servers", bootstrap, "--kinds", "temperature", "--streams", $"{Streams}", "--rounds", $"{Rounds}", "--pace", "20ms", "--seed", "7", "--fault-rate", "0.2"], File("simulate.out"), Patience, out var simulated));
        output.WriteLine(simulated);
        Assert.True(reader.WaitForExit(Patience), $"the reader should stop after {Readings} records: {reader.Errors}\n{worker.Errors}");
        Assert.Equal(0, reader.ExitCode);
        Assert.Contains("marker rule", reader.Errors, StringComparison.Ordinal);

        // The same input back from the broker, replayed through the same model with streamseq run.
        Assert.Equal(0, CliProcess.Run(["read", "--bootstrap-servers", bootstrap, "--topic", "streamseq.readings", "--from-beginning", "--format", "input"], File("readings.jsonl"), Patience, out _));
        Assert.Equal(Readings, System.IO.File.ReadLines(File("readings.jsonl")).Count());
        Assert.Equal(0, CliProcess.Run(["run", "--model", RepositoryFiles.Path("examples", "sensors.json"), "--input", File("readings.jsonl"), "--output", File("run.jsonl"), "--lag", "5", "--horizon", "3"], File("run.out"), Patience, out var ran));
        output.WriteLine(ran);
        var run = ByTypeAndStream(System.IO.File.ReadLines(File("run.jsonl")));

        var filtered = ByStream(System.IO.File.ReadLines(File("filtered.jsonl")));
        Assert.Equal(Readings, filtered.Values.Sum(l => l.Count));
        Assert.Equal(run["filtered"], filtered);
        foreach (var (topic, type) in new[] { ("streamseq.forecasts", "forecast"), ("streamseq.anomalies", "anomaly") })
        {
            Assert.Equal(0, CliProcess.Run(["read", "--bootstrap-servers", bootstrap, "--topic", topic, "--from-beginning"], File($"{type}.jsonl"), Patience, out _));
            Assert.Equal(run.GetValueOrDefault(type) ?? [], ByStream(System.IO.File.ReadLines(File($"{type}.jsonl"))));
        }

        Assert.True(run.ContainsKey("anomaly"), "the fault rate should raise anomalies");

        // Fixed-lag smoothed records: the worker's are the run's, except the run's last ones, which only the end of
        // the file releases (a live stream has no end).
        Assert.Equal(0, CliProcess.Run(["read", "--bootstrap-servers", bootstrap, "--topic", "streamseq.smoothed", "--from-beginning"], File("smoothed.jsonl"), Patience, out _));
        foreach (var (stream, records) in ByStream(System.IO.File.ReadLines(File("smoothed.jsonl"))))
        {
            Assert.Equal(run["smoothed"][stream].Take(records.Count), records);
            Assert.Equal(Rounds - 5, records.Count);
        }

        // Ctrl+C stops the broker cleanly (SIGTERM when this run was started with SIGINT ignored).
        output.WriteLine($"stopping the broker with {broker.Interrupt()}");
        Assert.True(broker.WaitForExit(TimeSpan.FromSeconds(30)), broker.Errors);
        Assert.Equal(0, broker.ExitCode);
    }

    private static Dictionary<string, Dictionary<string, List<string>>> ByTypeAndStream(IEnumerable<string> lines) =>
        lines.GroupBy(l => JsonDocument.Parse(l).RootElement.GetProperty("type").GetString()!).ToDictionary(g => g.Key, ByStream);

    private static Dictionary<string, List<string>> ByStream(IEnumerable<string> lines) =>
        lines.GroupBy(l => JsonDocument.Parse(l).RootElement.GetProperty("stream").GetString()!).ToDictionary(g => g.Key, g => g.ToList());

    private static void WaitReady(CliProcess worker, int port)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(worker.HasExited, $"the worker exited: {worker.Errors}");
            try
            {
                if (client.GetAsync(new Uri($"http://127.0.0.1:{port}/health/ready")).GetAwaiter().GetResult().StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            Thread.Sleep(200);
        }

        Assert.Fail($"the worker did not become ready: {worker.Errors}");
    }


    private string File(string name) => scratch.File(name);
}
