using System.Globalization;
using StreamSeq.EndToEnd;

// The end-to-end harness: dotnet run -c Release --project bench/StreamSeq.EndToEnd -- [--full] [--markdown out.md] [--only a,b,c,d,e,f] [--streams N] [--baseline-streams N] (e and f, the disk store, only when asked for; f: at N streams, 10 million by default)
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

    if (only.Contains("f"))
    {
        var streams = int.Parse(Argument(args, "--streams") ?? "10000000", CultureInfo.InvariantCulture);
        var baseline = int.Parse(Argument(args, "--baseline-streams") ?? "1000000", CultureInfo.InvariantCulture);
        diskStore += DiskStoreScaleScenario.Execute(broker, streams, Math.Min(streams, baseline), 80_000, log);
    }
}

if (only.Contains("c"))
{
    report.Memory = MemoryScenario.Execute(sizes.MemoryStreams, log);
}

report.LoadAfter = MachineLoad.Read();
// The disk-store scenarios bring their own sections: without a-d there is no summary table to print.
var text = (only.Any(o => o is "a" or "b" or "c" or "d") ? report.ToMarkdown() : string.Empty) + (diskStore ?? string.Empty);
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
