using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using StreamSeq.Kafka.Transport;
using StreamSeq.Worker.Tests.Support;
using Xunit.Abstractions;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>
/// Several worker processes under what a production cluster does to them, all in one run: SIGKILLs at random points,
/// rebalances (members killed, joining and leaving gracefully), the changelog compacted between restarts, far more
/// streams than <c>MaxLiveStreams</c>, and poison records mixed into the input. Afterwards the committed outputs of the
/// good records equal <c>streamseq run</c> over them byte for byte, every poison record is in the dead letters exactly
/// once with its reason (and nothing else is), and no worker process grew beyond a fixed memory bound.
/// </summary>
public sealed class ChaosSoakTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Largest resident memory of any worker process (measured 97-115 MB on two shared cores).</summary>
    private const long MemoryBound = 256L << 20;

    private const int Streams = 240;
    private const int PerStream = 60;
    /// <summary>
    /// Input rate: the events below come at fractions of the input, about 5 s apart at this rate, time for the group to
    /// settle and the members to process between them.
    /// </summary>
    private const double RecordsPerSecond = 480;
    private const int MaxLiveStreams = 8;
    private const string CompactedChangelog = "streamseq.changelog.compacted";

    private readonly Scratch directory = new("streamseq-soak-");
    private readonly List<WorkerProcess> processes = [];
    private readonly Dictionary<string, long> peakMemory = [];
    private string stateStore = "memory";

    public void Dispose()
    {
        foreach (var p in processes)
        {
            p.Dispose();
        }

        directory.Dispose();
    }

    /// <summary>The disk store's cache in the soak: about a quarter of the streams' states, so most records read from disk.</summary>
    private const long CacheBytes = 16L << 10;

    [Theory]
    [InlineData("memory")]
    [InlineData("rocksdb")]
    public void Soak_KillsRebalancesCompactionEvictionAndPoisonRecords_GoodOutputsEqualTheCliAndEveryPoisonRecordIsDeadLettered(string stateStore)
    {
        this.stateStore = stateStore;
        using var bed = new KafkaTestBed("soak");
        bed.AddChangelog(CompactedChangelog);
        var good = TestInput.Generate(Streams, PerStream, seed: 21);
        var rng = new Random(2027);
        var poison = Poison(good, rng);
        var schedule = Interleave(good, poison, rng);
        var expected = CliRun.Outputs(bed, TestInput.Model, good, lag: 2, horizon: 1, Directory.CreateDirectory(Path.Combine(directory.Directory, "cli")).FullName);
        var log = new StringBuilder();
        var clock = Stopwatch.StartNew();
        void Note(string what)
        {
            log.AppendLine(CultureInfo.InvariantCulture, $"{clock.Elapsed.TotalSeconds,6:F1} s  {what}");
            TestLog.Write("soak", what);
        }

        var changelog = bed.Options.ChangelogTopic;
        var workers = new Dictionary<string, WorkerProcess>();
        void Start(string name)
        {
            workers[name] = Launch(bed, name, changelog);
            Note($"started {name} on {changelog}");
        }

        void Kill(string name)
        {
            workers[name].Kill();
            Note($"SIGKILL {name}");
        }

        void WaitUntilOwner(string name)
        {
            ExactlyOnceTests.WaitUntil(() => TryStatus(workers[name])?["partitions"]?.AsArray().Count > 0, $"worker {name} to own partitions");
        }

        // Two members that join an empty group together: the second starts once the first owns partitions and has had
        // two heartbeats to confirm them. Started 4 ms apart, the embedded broker assigned two partitions to both at
        // once: the member that had all four processed a record of one and committed it as it revoked the two, and the
        // other, which had restored them before that commit, processed the record again (a run of the whole Worker
        // project: 14,401 filtered records for 14,400, the count of a fresh-clone CI failure; docs/kafka-embedded.md).
        void StartTwo(string first, string second)
        {
            Start(first);
            WaitUntilOwner(first);
            Thread.Sleep(TimeSpan.FromMilliseconds(600));
            Start(second);
        }

        // A member killed alone owns partitions then (it is not still starting), so its kill moves them.
        void KillOwner(string name)
        {
            WaitUntilOwner(name);
            Kill(name);
        }

        using var sampling = new CancellationTokenSource();
        var sampler = new Thread(() => SampleMemory(sampling.Token)) { IsBackground = true, Name = "rss" };
        sampler.Start();

        StartTwo("a", "b");
        var produced = 0;
        var producer = new Thread(() => ProduceAtRate(bed, schedule, ref produced)) { IsBackground = true, Name = "soak-producer" };
        producer.Start();
        void At(double fraction)
        {
            while (Volatile.Read(ref produced) < fraction * schedule.Count)
            {
                Assert.All(workers, w => Assert.False(w.Value.HasExited, $"worker {w.Key} exited on its own:\n{w.Value.Logs()}"));
                Thread.Sleep(100);
            }

            Thread.Sleep(rng.Next(0, 1500));
        }

        try
        {
            At(0.12);
            KillOwner("a");
            Start("a");
            At(0.30);
            Start("c");
            At(0.45);
            KillOwner("b");
            Start("b");
            At(0.60);
            foreach (var name in workers.Keys.ToList())
            {
                Kill(name);
            }

            workers.Remove("c");
            var compaction = ChangelogCleaner.Compact(bed, changelog, CompactedChangelog);
            Note($"compacted {changelog} into {CompactedChangelog}: {compaction}");
            var original = changelog;
            var compactedEnds = bed.HighWatermarks(original, KafkaTestBed.InputPartitions);
            changelog = CompactedChangelog;
            StartTwo("a", "b");
            At(0.80);

            // A graceful leave of a member that owns partitions: it commits them before it hands them over.
            WaitUntilOwner("a");
            var stopwatch = Stopwatch.StartNew();
            var exit = workers["a"].Stop(TimeSpan.FromSeconds(30));
            Note($"SIGTERM a: exit code {exit?.ToString(CultureInfo.InvariantCulture) ?? "none (killed)"} after {stopwatch.Elapsed.TotalSeconds:F1} s");
            Assert.Equal(0, exit);
            Start("a");
            producer.Join();
            Note($"produced {schedule.Count} records ({poison.Count} poison)");
            bed.WaitForFiltered(good.Count, TimeSpan.FromMinutes(3), () => log + string.Join("\n", workers.Values.Select(w => w.Logs())));

            // Only the killed workers wrote the original changelog: records of theirs that reached it after the copy (a
            // request still on its way) would count for the outputs' reader but not for the restore from the copy.
            var ends = bed.HighWatermarks(original, KafkaTestBed.InputPartitions);
            Note($"{original} ends: [{string.Join(",", compactedEnds)}] when compacted, [{string.Join(",", ends)}] now");

            // Members that lost their partitions (stalled past the session timeout) while alive: their open transaction
            // may still have been committed after the next owner restored (docs/worker.md).
            var lost = processes.Select(p => (Name: Path.GetFileName(p.Directory), Lines: p.Logs().Split('\n')))
                .Select(p => (p.Name, Lost: p.Lines.Count(l => l.Contains("Partitions lost", StringComparison.Ordinal)), NotCommitted: p.Lines.Count(l => l.Contains("Not committing", StringComparison.Ordinal))))
                .Where(x => x.Lost > 0 || x.NotCommitted > 0).ToList();
            Note($"partitions lost: {(lost.Count == 0 ? "none" : string.Join(", ", lost.Select(x => $"{x.Name} {x.Lost} time(s), {x.NotCommitted} commit(s) refused")))}");
            var deadLetters = 0;
            ExactlyOnceTests.WaitUntil(() => (deadLetters = bed.ReadCommittedMessages(bed.Options.DeadLetterTopic).Count) >= poison.Count, "every poison record's dead letter", seconds: 120);
            Note($"all {good.Count} filtered records and {deadLetters} dead letters committed");

            // Eviction pressure: every running worker holds at most MaxLiveStreams live streams per partition it owns.
            // The counts are per owned partition, so they are read once the group has settled: a member restarted late
            // may still be joining when the last output is committed, its partitions then owned by nobody (or restoring).
            var statuses = SettledStatuses(workers.Values);
            Note($"status: {string.Join("; ", statuses.Select(s => s.ToJsonString()))}");
            if (stateStore == "memory")
            {
                Assert.All(statuses, s => Assert.True((long)s["liveStreams"]! <= MaxLiveStreams * s["partitions"]!.AsArray().Count, $"more live streams than the limit: {s}"));
                Assert.True(statuses.Sum(s => (long)s["evictedStreams"]!) >= Streams - (MaxLiveStreams * KafkaTestBed.InputPartitions), $"streams beyond the limit should be evicted: {string.Join("; ", statuses)}");
            }
            else
            {
                // The disk store has no eviction: its cache holds what fits in CacheBytes, the rest is on disk.
                Assert.True(statuses.Sum(s => (long)s["liveStreams"]!) < Streams / 2, $"the cache should hold a fraction of the streams: {string.Join("; ", statuses)}");
                Assert.All(statuses, s => Assert.Equal(0, (long)s["evictedStreams"]!));
            }
        }
        finally
        {
            sampling.Cancel();
            sampler.Join();
            foreach (var w in workers.Values)
            {
                w.Kill();
            }

            output.WriteLine(log.ToString());
            output.WriteLine($"peak resident memory per worker process: {string.Join(", ", peakMemory.Select(m => $"{m.Key} {m.Value >> 20} MB"))}");
        }

        OutputAssert.ExactlyOnce(bed, expected);
        AssertDeadLetters(bed, poison);
        Assert.All(peakMemory, m => Assert.True(m.Value <= MemoryBound, $"worker process {m.Key} reached {m.Value >> 20} MB, above the bound of {MemoryBound >> 20} MB"));
    }

    /// <summary>A poison record, the reason its dead letter must carry, and where it goes (null: by key).</summary>
    private sealed record PoisonRecord(string Kind, byte[] Key, byte[] Value, string Reason, int? Partition = null, int After = -1)
    {
        /// <summary>How its dead letter is recognised: the key and the leading bytes of the value (dead letters may be cut).</summary>
        public string Identity => Identify(Key, Value);
    }

    private static string Identify(byte[] key, byte[] value) => Convert.ToBase64String(key) + "|" + Convert.ToBase64String(value.AsSpan(0, Math.Min(64, value.Length)));

    private static List<PoisonRecord> Poison(List<(string Stream, string Value)> good, Random rng)
    {
        var reading = "{\"time\":\"2026-01-01T00:00:00Z\",\"values\":[20]}";
        var list = new List<PoisonRecord>();

        // Larger than the producer's message.max.bytes once dead-lettered with their original bytes (one per partition:
        // the embedded broker keeps about 5 MiB per partition), under the ids of live streams.
        for (var i = 0; i < 2; i++)
        {
            var value = Encoding.UTF8.GetBytes($"{{\"poison\":\"oversized-{i}\",\"values\":[" + new string('1', 1_040_000));
            list.Add(new("oversized", Encoding.UTF8.GetBytes($"sensor-{(i * 97) + 3:D4}"), value, "unparseable", Partition: i));
        }

        // Stream ids beyond the 1 KiB limit, and keys that are not UTF-8 (two of which a lenient decoder would merge).
        for (var i = 0; i < 3; i++)
        {
            list.Add(new("long-key", Encoding.UTF8.GetBytes($"long-{i}-" + new string('k', 5000)), Encoding.UTF8.GetBytes(reading), "invalid-key", Partition: i + 1));
        }

        for (var i = 0; i < 20; i++)
        {
            byte[] tail = (i % 4) switch
            {
                0 => [0xff, 0xfe],
                1 => [0xfe, 0xff],
                2 => [0xe2, 0x82],
                _ => [0xc0, (byte)(0x80 + i)],
            };
            list.Add(new("not-utf8", [.. Encoding.UTF8.GetBytes($"temperature-{i:D2}-"), .. tail], Encoding.UTF8.GetBytes(reading), "invalid-key"));
        }

        // Rejected records under fresh stream ids (they must create no state) and garbage under live ones.
        for (var i = 0; i < 200; i++)
        {
            list.Add(new("wrong-dimension", Encoding.UTF8.GetBytes($"fresh-{i:D4}"), Encoding.UTF8.GetBytes("{\"time\":\"2026-01-01T00:00:00Z\",\"values\":[1,2]}"), "wrong-dimension"));
        }

        for (var i = 0; i < 10; i++)
        {
            list.Add(new("unparseable", Encoding.UTF8.GetBytes(good[rng.Next(good.Count)].Stream), Encoding.UTF8.GetBytes($"{{\"values\":[1],\"time\":\"garbage-{i}\"}}"), "unparseable"));
        }

        list.AddRange(InputRulePoison(good, rng));
        Assert.Empty(list.GroupBy(p => p.Identity).Where(g => g.Count() > 1).Select(g => $"{g.First().Kind} {Encoding.UTF8.GetString(g.First().Value)}"));
        return list;
    }

    /// <summary>
    /// Poison for the processor's input rules, under the ids of live streams: far-future times (which, undetected, would
    /// make their stream's later readings too late), times past year 9999, and readings at a stream's last time with
    /// another value.
    /// </summary>
    private static List<PoisonRecord> InputRulePoison(List<(string Stream, string Value)> good, Random rng)
    {
        var list = new List<PoisonRecord>();
        for (var i = 0; i < 5; i++)
        {
            var stream = good[rng.Next(good.Count)].Stream;
            list.Add(new("far-future", Encoding.UTF8.GetBytes(stream), Encoding.UTF8.GetBytes($"{{\"time\":\"2100-01-0{i + 1}T00:00:00Z\",\"values\":[20]}}"), "too-far-ahead"));
        }

        for (var i = 0; i < 2; i++)
        {
            var stream = good[rng.Next(good.Count)].Stream;
            list.Add(new("year-9999", Encoding.UTF8.GetBytes(stream), Encoding.UTF8.GetBytes($"{{\"time\":\"9999-12-31T23:59:5{i}Z\",\"values\":[21]}}"), "time-out-of-range"));
        }

        // A reading at the time of the good record it follows, with another value.
        var chosen = new HashSet<int>();
        while (chosen.Count < 5)
        {
            var after = rng.Next(good.Count / 2, good.Count);
            if (!chosen.Add(after))
            {
                continue;
            }

            var time = good[after].Value[..good[after].Value.IndexOf("\"values\"", StringComparison.Ordinal)];
            var value = time + "\"values\":[1000]}";
            list.Add(new("conflicting", Encoding.UTF8.GetBytes(good[after].Stream), Encoding.UTF8.GetBytes(value), "conflicting-duplicate", After: after));
        }

        return list;
    }

    /// <summary>Good records in order, each poison record after its chosen good record or at a random place.</summary>
    private static List<(byte[] Key, byte[] Value, int? Partition)> Interleave(List<(string Stream, string Value)> good, List<PoisonRecord> poison, Random rng)
    {
        var at = poison.Select(p => (Poison: p, After: p.After >= 0 ? p.After : rng.Next(good.Count / 10, good.Count))).ToLookup(x => x.After, x => x.Poison);
        var schedule = new List<(byte[], byte[], int?)>(good.Count + poison.Count);
        for (var i = 0; i < good.Count; i++)
        {
            schedule.Add((Encoding.UTF8.GetBytes(good[i].Stream), Encoding.UTF8.GetBytes(good[i].Value), null));
            schedule.AddRange(at[i].Select(p => (p.Key, p.Value, p.Partition)));
        }

        return schedule;
    }

    private static void ProduceAtRate(KafkaTestBed bed, List<(byte[] Key, byte[] Value, int? Partition)> records, ref int produced)
    {
        var config = new ProducerConfig { BootstrapServers = bed.Cluster.BootstrapServers, EnableIdempotence = true, LingerMs = 5, MessageMaxBytes = 20_000_000 };
        using var producer = new ProducerBuilder<byte[], byte[]>(config).SetLogHandler((_, _) => { }).Build();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < records.Count; i++)
        {
            var (key, value, partition) = records[i];
            var target = new TopicPartition(bed.Options.InputTopic, partition is int p ? new Partition(p) : Partition.Any);
            while (true)
            {
                try
                {
                    producer.Produce(target, new Message<byte[], byte[]> { Key = key, Value = value });
                    break;
                }
                catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(10));
                }
            }

            Volatile.Write(ref produced, i + 1);
            KafkaTestBed.SleepUntilDue(clock, i, RecordsPerSecond);
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
    }

    private WorkerProcess Launch(KafkaTestBed bed, string name, string changelog)
    {
        var settings = WorkerProcess.Settings(bed, $"soak-{name}", commitInterval: "00:00:00.500");
        settings["Kafka"]!["ChangelogTopic"] = changelog;
        if (stateStore == "memory")
        {
            // The live-stream cap is the memory store's; the disk store bounds its cache in bytes instead.
            settings["Processing"]!["MaxLiveStreams"] = MaxLiveStreams;
        }
        else
        {
            // One volume for every process, as a StatefulSet gives a restarted pod its own: each instance's stores
            // live under its instance id, so a restarted worker resumes from its checkpoints.
            settings["Processing"]!["StateStore"] = "rocksdb";
            settings["Processing"]!["StateDirectory"] = Path.Combine(directory.Directory, "state");
            settings["Processing"]!["CacheBytes"] = CacheBytes;
            settings["Processing"]!["CheckpointInterval"] = "00:00:01";

            // With standby replicas: kills and rebalances hand stores between the loop and the standby reader at random
            // points, and a partition usually moves to an instance that mirrored it.
            settings["Processing"]!["Standby"] = "all";
        }

        var process = WorkerProcess.Start(settings, Path.Combine(directory.Directory, $"{name}-{processes.Count}"));
        lock (processes)
        {
            processes.Add(process);
        }

        return process;
    }

    private static JsonNode Status(WorkerProcess worker)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return JsonNode.Parse(http.GetStringAsync(new Uri($"http://127.0.0.1:{worker.Port}/api/status")).GetAwaiter().GetResult())!;
    }

    /// <summary>
    /// The statuses of <paramref name="workers"/> once they are all ready and own every input partition between them,
    /// each partition once, in two reads a second apart (so not in the middle of a rebalance).
    /// </summary>
    private static List<JsonNode> SettledStatuses(IEnumerable<WorkerProcess> workers)
    {
        List<JsonNode> statuses = [];
        string? previous = null;
        ExactlyOnceTests.WaitUntil(
            () =>
            {
                statuses = [.. workers.Select(TryStatus).OfType<JsonNode>()];
                var owned = statuses.SelectMany(s => s["partitions"]!.AsArray().Select(p => (int)p!)).Order().ToList();
                var settled = statuses.Count == workers.Count()
                    && statuses.All(s => (bool)s["ready"]!)
                    && owned.SequenceEqual(Enumerable.Range(0, KafkaTestBed.InputPartitions));
                var assignment = string.Join(";", statuses.Select(s => s["partitions"]!.ToJsonString()));
                var stable = settled && assignment == previous;
                previous = settled ? assignment : null;
                if (!stable)
                {
                    Thread.Sleep(1000);
                }

                return stable;
            },
            "the group to settle: every worker ready and every input partition owned once",
            seconds: 120);
        return statuses;
    }

    private static JsonNode? TryStatus(WorkerProcess worker)
    {
        try
        {
            return Status(worker);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null; // not listening yet, or too busy to answer within the client's time-out
        }
    }

    private void SampleMemory(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            WorkerProcess[] running;
            lock (processes)
            {
                running = [.. processes];
            }

            for (var i = 0; i < running.Length; i++)
            {
                var name = Path.GetFileName(running[i].Directory);
                var rss = running[i].ResidentBytes;
                lock (peakMemory)
                {
                    peakMemory[name] = Math.Max(peakMemory.GetValueOrDefault(name), rss);
                }
            }

            stop.WaitHandle.WaitOne(500);
        }
    }

    private static void AssertDeadLetters(KafkaTestBed bed, List<PoisonRecord> poison)
    {
        var letters = bed.ReadCommittedMessages(bed.Options.DeadLetterTopic);
        var expected = poison.ToDictionary(p => p.Identity);
        var seen = new HashSet<string>();
        foreach (var letter in letters)
        {
            var identity = Identify(letter.Key ?? [], letter.Value ?? []);
            var reason = letter.Headers.TryGetLastBytes(DeadLetterHeaders.Kind, out var kind) ? Encoding.UTF8.GetString(kind) : "(none)";
            Assert.True(expected.TryGetValue(identity, out var p), $"a dead letter ({reason}) for a record that is not poison: key {Encoding.UTF8.GetString(letter.Key ?? [])}, value {Encoding.UTF8.GetString((letter.Value ?? []).AsSpan(0, Math.Min(120, letter.Value?.Length ?? 0)))}");
            Assert.True(seen.Add(identity), $"{p!.Kind} poison record dead-lettered twice");
            Assert.Equal(p.Reason, reason);
        }

        Assert.Empty(poison.Where(p => !seen.Contains(p.Identity)).Select(p => p.Kind));
    }
}
