using System.Diagnostics;
using System.Text;
using StreamSeq.Kafka.Stores;

namespace StreamSeq.EndToEnd;

/// <summary>
/// (e) The disk store against the in-memory one, in one run: throughput with every state in the cache (hot) and with a
/// cache far smaller than the states when every record touches a different stream (cold), heap and resident memory
/// after the cold run, and the time to be ready again after a clean stop (local checkpoint) against a full changelog
/// restore of the same streams.
/// </summary>
internal static class DiskStoreScenario
{
    public static string Execute(Broker broker, int streams, TextWriter log)
    {
        const int rounds = 3;
        var input = broker.NewTopic("disk-input", Broker.InputPartitions);
        var records = Workload.Records(streams, rounds);
        broker.Produce(input, records);
        var router = Workload.Router();
        var root = Directory.CreateTempSubdirectory("streamseq-bench-disk-").FullName;
        log.WriteLine($"disk store: {records.Count:N0} input records ({streams:N0} streams x {rounds} rounds, round robin: consecutive records touch different streams) in {root}");
        try
        {
            // One unrecorded run first: JIT tiering and first-use costs would otherwise land on the first measured run.
            Run(broker, input, router, records.Count, "disk-warmup", null, TextWriter.Null);
            var memory = Run(broker, input, router, records.Count, "disk-memory", null, log);
            var hot = Run(broker, input, router, records.Count, "disk-hot", new StateStoreOptions { Kind = StateStoreKind.RocksDb, Directory = Path.Combine(root, "hot"), CacheBytes = 1L << 30 }, log);
            var coldStore = new StateStoreOptions { Kind = StateStoreKind.RocksDb, Directory = Path.Combine(root, "cold"), CacheBytes = 2L << 20 };
            var cold = Run(broker, input, router, records.Count, "disk-cold", coldStore, log);

            // Ready again on the same volume (checkpoint), against a new in-memory worker reading the whole changelog.
            var checkpointReady = Ready(cold.Options, router, coldStore);
            cold.Options.InstanceId = "full-restore";
            var fullReady = Ready(cold.Options, router, null);
            log.WriteLine($"  ready after a clean stop: {checkpointReady:F2} s from the checkpoint, {fullReady:F2} s restoring the whole changelog");

            var md = new StringBuilder();
            md.AppendLine();
            md.AppendLine("### Disk store (`StateStore=rocksdb`), scenario e");
            md.AppendLine();
            md.AppendLine($"{streams:N0} local-linear-trend streams, {rounds} rounds, records in round-robin order (consecutive records touch different streams), 4 partitions, in-process embedded broker (its memory is in the RSS figures). Hot: a 1 GiB cache holds every state; cold: a 2 MiB cache holds about 8,000 of them (the estimate is about 260 bytes per stream), so nearly every record reads its stream from RocksDB.");
            md.AppendLine();
            md.AppendLine("| run | records/s | vs in-memory | CPU us/record | managed heap after | RSS after |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|");
            foreach (var r in new[] { memory, hot, cold })
            {
                md.AppendLine($"| {r.Name} | {r.PerSecond:N0} | {r.PerSecond / memory.PerSecond:P0} | {r.CpuMicroseconds:F1} | {r.HeapBytes / 1048576.0:F0} MiB | {r.ResidentBytes / 1048576.0:F0} MiB |");
            }

            md.AppendLine();
            md.AppendLine($"Ready after a clean stop: {checkpointReady:F2} s from the local checkpoint, {fullReady:F2} s for an in-memory worker restoring the whole changelog ({fullReady / checkpointReady:F1}x).");
            return md.ToString();
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static RunResult Run(Broker broker, string input, Processing.Models.ModelRouter router, long expected, string name, StateStoreOptions? store, TextWriter log)
    {
        var options = ThroughputScenario.Options(broker, input, name);
        using var runner = LoopRunner.Worker(options, router, store: store);
        var (seconds, cpu, _) = ThroughputScenario.Time(runner, expected);
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        using var self = Process.GetCurrentProcess();
        var resident = self.WorkingSet64;
        var result = new RunResult(options, store is null ? "in-memory" : store.CacheBytes >= 1L << 30 ? "rocksdb, hot (cache holds all)" : "rocksdb, cold (2 MiB cache)", expected / seconds, cpu * 1e6 / expected, heap, resident);
        log.WriteLine($"  {result.Name,-32} {result.PerSecond,10:N0} records/s  {result.CpuMicroseconds,6:F1} us CPU/record  heap {heap / 1048576.0:F0} MiB  RSS {resident / 1048576.0:F0} MiB");
        runner.Dispose();
        return result;
    }

    /// <summary>Seconds from starting a worker on a finished run's topics (and state) until it has restored every partition.</summary>
    private static double Ready(Kafka.Transport.KafkaTransportOptions options, Processing.Models.ModelRouter router, StateStoreOptions? store)
    {
        var clock = Stopwatch.StartNew();
        using var runner = LoopRunner.Worker(options, router, store: store);
        while (!runner.Assigned(Broker.InputPartitions))
        {
            runner.ThrowIfFailed();
            if (clock.Elapsed > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException("waited 5 minutes for the restore.");
            }

            Thread.Sleep(1);
        }

        return clock.Elapsed.TotalSeconds;
    }

    private sealed record RunResult(Kafka.Transport.KafkaTransportOptions Options, string Name, double PerSecond, double CpuMicroseconds, long HeapBytes, long ResidentBytes);
}
