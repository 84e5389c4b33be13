using System.Globalization;
using StreamSeq.EndToEnd;

// The end-to-end harness: dotnet run -c Release --project bench/StreamSeq.EndToEnd -- [--full] [--markdown out.md] [--only a,b,c,d,e] (e, the disk store, only when asked for)
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var full = args.Contains("--full");
var markdown = Argument(args, "--markdown");
var only = Argument(args, "--only")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? ["a", "b", "c", "d"];
var sizes = full ? HarnessSizes.Full : HarnessSizes.Quick;
var log = Console.Out;
var loadBefore = MachineLoad.Read();
log.WriteLine($"StreamSeq end-to-end harness ({(full ? "full" : "quick")}); load average {loadBefore}");

var report = new Report(sizes, loadBefore);
string? diskStore = null;
using (var broker = new Broker())
{
    if (only.Contains("a") || only.Contains("b"))
    {
        report.Throughput = ThroughputScenario.Execute(broker, sizes.Streams, sizes.Rounds, sizes.Pairs, log);
    }

    if (only.Contains("b"))
    {
        foreach (var fraction in new[] { 0.5, 0.1 })
        {
            report.Latency.Add(LatencyScenario.Execute(broker, sizes.Streams, fraction, report.Throughput!.WorkerPerSecond, sizes.LatencyWarmUp, sizes.LatencyDuration, log));
        }
    }

    if (only.Contains("d"))
    {
        report.Restore = RestoreScenario.Execute(broker, sizes.RestoreStreams, sizes.RestoreRepeats, log);
    }

    if (only.Contains("e"))
    {
        diskStore = DiskStoreScenario.Execute(broker, full ? 400_000 : 100_000, log);
    }
}

if (only.Contains("c"))
{
    report.Memory = MemoryScenario.Execute(sizes.MemoryStreams, log);
}

report.LoadAfter = MachineLoad.Read();
var text = report.ToMarkdown() + (diskStore ?? string.Empty);
log.WriteLine();
log.WriteLine(text);
if (markdown is not null)
{
    File.WriteAllText(markdown, text);
    log.WriteLine($"wrote {markdown}");
}

return 0;

static string? Argument(string[] args, string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
