using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Stores;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Models;

namespace StreamSeq.EndToEnd;

/// <summary>
/// (f) The disk store at the targets' scale (10 million streams by default) through the real worker loop with a 256 MiB cache, the
/// input fed at the rate it is consumed (the embedded broker keeps 5 MiB per partition). Passes, in order: one reading
/// of every stream (each record creates a stream), one more reading of the oldest streams (each long gone from the
/// cache: read back from RocksDB), and rounds over an active set that fits the cache. Then heap and resident memory,
/// a clean stop and the time until a worker on the same state directory is ready (local checkpoint). The in-memory
/// store runs the same passes at a size it holds sensibly, and the full changelog restore is measured at the largest
/// size the broker's retention keeps whole.
/// </summary>
internal static class DiskStoreScaleScenario
{
    private const int HotRounds = 3;
    private const long CacheBytes = 256L << 20;

    /// <summary>Output topics get as many partitions as the input: nothing reads them, and each holds up to 5 MiB in this process.</summary>
    private const int OutputPartitions = Broker.InputPartitions;

    public static string Execute(Broker broker, int streams, int baselineStreams, int restoreStreams, TextWriter log)
    {
        var router = Workload.Router();
        var root = Directory.CreateTempSubdirectory("streamseq-bench-scale-").FullName;
        log.WriteLine($"disk store at scale: {streams:N0} streams (rocksdb, {CacheBytes >> 20} MiB cache) and {baselineStreams:N0} (in memory); state in {root}; load average {MachineLoad.Read()}");
        try
        {
            // Unrecorded: JIT tiering and first-use costs would otherwise land on the first measured pass.
            Run(broker, router, "scale-warmup", Math.Min(streams, 40_000), Store(root, "warmup"), restart: false, TextWriter.Null);
            var disk = Run(broker, router, "scale-disk", streams, Store(root, "disk"), restart: true, log);
            var memory = Run(broker, router, "scale-memory", baselineStreams, null, restart: false, log);
            var feed = FeedCost(broker, Math.Min(500_000, streams), log);
            var restore = RestoreComparison(broker, router, restoreStreams, Store(root, "restore"), log);
            return Markdown(streams, baselineStreams, disk, memory, feed, restore);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static StateStoreOptions Store(string root, string name) =>
        new() { Kind = StateStoreKind.RocksDb, Directory = Path.Combine(root, name), CacheBytes = CacheBytes };

    /// <summary>One worker through all passes over <paramref name="streams"/> streams; with <paramref name="restart"/>, a clean stop and a timed restart on the same state.</summary>
    private static RunResult Run(Broker broker, ModelRouter router, string name, int streams, StateStoreOptions? store, bool restart, TextWriter log)
    {
        var cold = Math.Min(1_000_000, streams / 2);
        var active = Math.Min(250_000, streams / 4);
        var input = broker.NewTopic($"{name}.input", Broker.InputPartitions);
        var options = ThroughputScenario.Options(broker, input, name, OutputPartitions);
        var kind = store is null ? "in-memory" : "rocksdb";
        log.WriteLine($"  {kind}: {streams:N0} new streams, then {cold:N0} cold ones again, then {HotRounds} rounds over {active:N0} in the cache");
        var resetPeak = ProcessMemory.ResetPeak();
        using var feed = new PacedFeed(broker, input);
        using var sampler = new HeapSampler();
        var runner = LoopRunner.Worker(options, router, store: store);
        try
        {
            WaitReady(runner, TimeSpan.FromMinutes(5));
            var phases = new List<Phase>();
            phases.Add(Timed("new streams", streams, () => feed.Round(0, streams, 0, () => runner.Processed, runner.ThrowIfFailed), runner, feed, log));
            var afterNew = Memory();
            log.WriteLine($"    after the new streams: heap {Mib(afterNew.Heap)} (after a full GC), RSS {Mib(afterNew.Resident)}, live streams {runner.Loop!.Status.LiveStreams:N0}");
            phases.Add(Timed("cold streams", cold, () => feed.Round(0, cold, 1, () => runner.Processed, runner.ThrowIfFailed), runner, feed, log));
            phases.Add(Timed("active set, first round", active, () => feed.Round(cold, active, 1, () => runner.Processed, runner.ThrowIfFailed), runner, feed, log));
            phases.Add(Timed("hot streams", (long)active * HotRounds, () =>
            {
                for (var r = 0; r < HotRounds; r++)
                {
                    feed.Round(cold, active, 2 + r, () => runner.Processed, runner.ThrowIfFailed);
                }
            }, runner, feed, log));
            var afterAll = Memory();
            var peakResident = resetPeak ? ProcessMemory.PeakResident() : 0;
            log.WriteLine($"    at the end: heap {Mib(afterAll.Heap)} (after a full GC), RSS {Mib(afterAll.Resident)}, peak RSS {(resetPeak ? Mib(peakResident) : "unknown")}, peak heap sampled {Mib(sampler.Peak)}, live streams {runner.Loop.Status.LiveStreams:N0}, aborts {runner.Loop.Status.Aborts}");
            var result = new RunResult(kind, streams, phases, afterNew, afterAll, peakResident, sampler.Peak, null);
            if (!restart)
            {
                return result;
            }

            var stop = Stopwatch.StartNew();
            runner.Dispose();
            var stopSeconds = stop.Elapsed.TotalSeconds;
            var onDisk = DirectoryBytes(store!.Directory);
            var logger = new CapturingLogger();
            var clock = Stopwatch.StartNew();
            runner = LoopRunner.Worker(options, router, store: store, logger: logger);
            WaitReady(runner, TimeSpan.FromMinutes(30));
            var ready = clock.Elapsed.TotalSeconds;
            CheckRestoredFromCheckpoint(logger, log);

            // The restarted worker goes on from the states it kept: another reading of some old streams is processed.
            var before = feed.Produced;
            var again = Math.Min(10_000, streams);
            feed.Round(0, again, 2, () => before + runner.Processed, runner.ThrowIfFailed);
            Drain(runner, again);
            log.WriteLine($"    clean stop {stopSeconds:F2} s; {Mib(onDisk)} in the state directory; ready again after {ready:F2} s from the local checkpoint");
            return result with { Restart = new Restart(stopSeconds, ready, onDisk) };
        }
        finally
        {
            runner.Dispose();
        }
    }

    private static Phase Timed(string name, long records, Action feed, LoopRunner runner, PacedFeed input, TextWriter log)
    {
        var start = runner.Processed;
        var probe = Measure.Start();
        feed();
        Drain(runner, input.Produced);
        var m = probe.Stop();
        var phase = new Phase(name, runner.Processed - start, m.Wall.TotalSeconds, m.Cpu.TotalSeconds);
        if (phase.Records != records)
        {
            throw new InvalidOperationException($"{name}: {phase.Records:N0} records processed, {records:N0} expected.");
        }

        log.WriteLine($"    {name,-24} {phase.Records,11:N0} records {phase.PerSecond,9:N0} records/s {phase.CpuMicroseconds,6:F1} us CPU/record  (load {MachineLoad.Read()})");
        return phase;
    }

    /// <summary>Waits until the worker has processed <paramref name="expected"/> records (failing when it stops making progress).</summary>
    private static void Drain(LoopRunner runner, long expected)
    {
        var idle = Stopwatch.StartNew();
        var seen = runner.Processed;
        while (runner.Processed < expected)
        {
            runner.ThrowIfFailed();
            if (runner.Processed != seen)
            {
                seen = runner.Processed;
                idle.Restart();
            }
            else if (idle.Elapsed > TimeSpan.FromMinutes(3))
            {
                throw new TimeoutException($"the worker processed nothing for 3 minutes ({seen:N0} of {expected:N0}): input lost to retention?");
            }

            Thread.Sleep(1);
        }
    }

    private static void WaitReady(LoopRunner runner, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (!runner.Assigned(Broker.InputPartitions))
        {
            runner.ThrowIfFailed();
            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"waited {limit} for the worker to be ready.");
            }

            Thread.Sleep(1);
        }
    }

    /// <summary>A restart that rebuilt a store from the (truncated) changelog would measure nothing: fail on it.</summary>
    private static void CheckRestoredFromCheckpoint(CapturingLogger logger, TextWriter log)
    {
        var lines = logger.Lines;
        foreach (var line in lines.Where(l => l.Contains("Disk store", StringComparison.Ordinal) || l.Contains("Restored", StringComparison.Ordinal) || l.StartsWith("Warning", StringComparison.Ordinal)))
        {
            log.WriteLine($"      worker: {line}");
        }

        var fromCheckpoint = lines.Count(l => l.Contains("brought up to the changelog", StringComparison.Ordinal) && l.Contains("instead: False", StringComparison.Ordinal));
        if (fromCheckpoint != Broker.InputPartitions || lines.Any(l => l.Contains("rebuilt from the whole changelog", StringComparison.Ordinal)))
        {
            throw new InvalidOperationException($"the restart did not restore every partition from its checkpoint ({fromCheckpoint} of {Broker.InputPartitions}).");
        }
    }

    /// <summary>What producing the input costs this process (the runs above feed it while they are timed).</summary>
    private static Phase FeedCost(Broker broker, int records, TextWriter log)
    {
        var topic = broker.NewTopic("scale-feed-only", Broker.InputPartitions);
        using var feed = new PacedFeed(broker, topic);
        var probe = Measure.Start();
        feed.Round(0, records, 0, () => feed.Produced, () => { });
        var m = probe.Stop();
        var phase = new Phase("producing the input only", records, m.Wall.TotalSeconds, m.Cpu.TotalSeconds);
        log.WriteLine($"  feeding alone: {phase.PerSecond:N0} records/s, {phase.CpuMicroseconds:F1} us CPU/record");
        return phase;
    }

    /// <summary>
    /// The checkpoint against a full changelog restore at a size the broker keeps whole (one state per stream, 4
    /// partitions): a disk-store worker runs one round, stops, restarts on its state; then an in-memory worker of another
    /// instance reads the whole changelog.
    /// </summary>
    private static RestoreResult RestoreComparison(Broker broker, ModelRouter router, int streams, StateStoreOptions store, TextWriter log)
    {
        var input = broker.NewTopic("scale-restore.input", Broker.InputPartitions);
        var options = ThroughputScenario.Options(broker, input, "scale-restore", OutputPartitions);
        using var feed = new PacedFeed(broker, input);
        using (var runner = LoopRunner.Worker(options, router, store: store))
        {
            WaitReady(runner, TimeSpan.FromMinutes(5));
            feed.Round(0, streams, 0, () => runner.Processed, runner.ThrowIfFailed);
            Drain(runner, streams);
        }

        var records = ChangelogWhole(broker, options.ChangelogTopic);
        var logger = new CapturingLogger();
        var clock = Stopwatch.StartNew();
        using (var runner = LoopRunner.Worker(options, router, store: store, logger: logger))
        {
            WaitReady(runner, TimeSpan.FromMinutes(5));
        }

        var checkpoint = clock.Elapsed.TotalSeconds;
        CheckRestoredFromCheckpoint(logger, log);
        options.InstanceId = "full-restore";
        clock.Restart();
        long restored;
        using (var runner = LoopRunner.Worker(options, router))
        {
            WaitReady(runner, TimeSpan.FromMinutes(5));
            restored = runner.Loop!.Status.LiveStreams;
        }

        var full = clock.Elapsed.TotalSeconds;
        if (restored != streams)
        {
            throw new InvalidOperationException($"the full restore found {restored:N0} streams, {streams:N0} expected.");
        }

        log.WriteLine($"  {streams:N0} streams ({records:N0} changelog records, none deleted by retention): ready after {checkpoint:F2} s from the checkpoint, {full:F2} s restoring the whole changelog");
        return new RestoreResult(streams, records, checkpoint, full);
    }

    /// <summary>The changelog's record count, after checking retention deleted none of it (every partition starts at 0).</summary>
    private static long ChangelogWhole(Broker broker, string changelog)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = "e2e-watermarks-unused" })
            .SetLogHandler((_, _) => { }).Build();
        long records = 0;
        for (var p = 0; p < Broker.InputPartitions; p++)
        {
            var w = consumer.QueryWatermarkOffsets(new TopicPartition(changelog, p), TimeSpan.FromSeconds(30));
            if (w.Low.Value != 0)
            {
                throw new InvalidOperationException($"changelog partition {p} starts at {w.Low.Value}: retention deleted part of it, so a full restore would not be whole; use fewer streams.");
            }

            records += w.High.Value;
        }

        return records;
    }

    private static (long Heap, long Resident) Memory()
    {
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        return (heap, ProcessMemory.Resident());
    }

    private static long DirectoryBytes(string path) =>
        new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

    private static string Mib(long bytes) => $"{bytes / 1048576.0:N0} MiB";

    private static string Markdown(int streams, int baselineStreams, RunResult disk, RunResult memory, Phase feed, RestoreResult restore)
    {
        var md = new StringBuilder();
        md.AppendLine();
        md.AppendLine($"| pass | rocksdb, {streams:N0} streams: records/s | CPU us/record | in memory, {baselineStreams:N0} streams: records/s | CPU us/record | rocksdb / in memory (wall) | (CPU) |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        for (var i = 0; i < disk.Phases.Count; i++)
        {
            var d = disk.Phases[i];
            var m = memory.Phases[i];
            md.AppendLine($"| {d.Name} ({d.Records:N0} / {m.Records:N0} records) | {d.PerSecond:N0} | {d.CpuMicroseconds:F1} | {m.PerSecond:N0} | {m.CpuMicroseconds:F1} | {d.PerSecond / m.PerSecond:P0} | {m.CpuMicroseconds / d.CpuMicroseconds:P0} |");
        }

        md.AppendLine();
        md.AppendLine("| memory | rocksdb | in memory |");
        md.AppendLine("|---|---:|---:|");
        md.AppendLine($"| managed heap after the new streams (full GC) | {Mib(disk.AfterNew.Heap)} | {Mib(memory.AfterNew.Heap)} |");
        md.AppendLine($"| managed heap at the end (full GC) | {Mib(disk.AfterAll.Heap)} | {Mib(memory.AfterAll.Heap)} |");
        md.AppendLine($"| managed heap, highest sample (with garbage) | {Mib(disk.PeakHeap)} | {Mib(memory.PeakHeap)} |");
        md.AppendLine($"| RSS after the new streams | {Mib(disk.AfterNew.Resident)} | {Mib(memory.AfterNew.Resident)} |");
        md.AppendLine($"| peak RSS of the run | {Mib(disk.PeakResident)} | {Mib(memory.PeakResident)} |");
        md.AppendLine();
        md.AppendLine($"Feeding the input alone costs {feed.CpuMicroseconds:F1} us CPU/record ({feed.PerSecond:N0} records/s); it is in every CPU figure above.");
        if (disk.Restart is { } r)
        {
            md.AppendLine();
            md.AppendLine($"Restart with {streams:N0} states ({Mib(r.OnDisk)} in the state directory): clean stop {r.StopSeconds:F2} s, ready again {r.ReadySeconds:F2} s later from the local checkpoint.");
        }

        md.AppendLine($"At {restore.Streams:N0} streams ({restore.Records:N0} changelog records, none deleted by retention): ready {restore.CheckpointSeconds:F2} s from the checkpoint, {restore.FullSeconds:F2} s restoring the whole changelog into an in-memory worker.");
        return md.ToString();
    }

    private sealed record Phase(string Name, long Records, double Seconds, double CpuSeconds)
    {
        public double PerSecond => Records / Seconds;

        public double CpuMicroseconds => CpuSeconds * 1e6 / Records;
    }

    private sealed record Restart(double StopSeconds, double ReadySeconds, long OnDisk);

    private sealed record RunResult(string Kind, int Streams, IReadOnlyList<Phase> Phases, (long Heap, long Resident) AfterNew, (long Heap, long Resident) AfterAll, long PeakResident, long PeakHeap, Restart? Restart);

    private sealed record RestoreResult(int Streams, long Records, double CheckpointSeconds, double FullSeconds);
}
