using System.Diagnostics;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.EndToEnd;

/// <summary>
/// Target (a): the worker's exactly-once throughput against the pass-through loop, alternating runs in one process
/// over the same pre-produced input (fresh consumer group, output topics and transactional id per run).
/// </summary>
internal static class ThroughputScenario
{
    public sealed record Run(string Loop, long Records, double Seconds, double CpuSeconds, long Allocated, long Commits, long Committed)
    {
        public double PerSecond => Records / Seconds;

        public double CpuMicrosecondsPerRecord => CpuSeconds * 1e6 / Records;

        public double BytesAllocatedPerRecord => (double)Allocated / Records;
    }

    public sealed record Result(IReadOnlyList<Run> Runs, int Streams, int Rounds)
    {
        public IEnumerable<Run> Worker => Runs.Where(r => r.Loop == "worker");

        public IEnumerable<Run> PassThrough => Runs.Where(r => r.Loop == "pass-through");

        public double WorkerPerSecond => Measure.Median([.. Worker.Select(r => r.PerSecond)]);

        public double PassThroughPerSecond => Measure.Median([.. PassThrough.Select(r => r.PerSecond)]);

        public double Ratio => WorkerPerSecond / PassThroughPerSecond;

        /// <summary>Throughput ratio from CPU time per record (robust to other load on the machine).</summary>
        public double CpuRatio => Measure.Median([.. PassThrough.Select(r => r.CpuMicrosecondsPerRecord)]) / Measure.Median([.. Worker.Select(r => r.CpuMicrosecondsPerRecord)]);
    }

    public static Result Execute(Broker broker, int streams, int rounds, int pairs, TextWriter log)
    {
        var input = broker.NewTopic("input", Broker.InputPartitions);
        var records = Workload.Records(streams, rounds);
        broker.Produce(input, records);
        log.WriteLine($"throughput: {records.Count:N0} input records ({streams:N0} streams x {rounds} rounds) in {input}");
        var router = Workload.Router();
        var runs = new List<Run>();

        // One unrecorded pair first: JIT tiering and first-use costs would otherwise land on the first runs.
        RunWorker(broker, input, router, records.Count, -1);
        RunPassThrough(broker, input, records.Count, -1);
        for (var pair = 0; pair < pairs; pair++)
        {
            // Alternate the order so neither loop always runs on a warmer (or more loaded) machine.
            foreach (var loop in pair % 2 == 0 ? new[] { "pass-through", "worker" } : ["worker", "pass-through"])
            {
                var run = loop == "worker" ? RunWorker(broker, input, router, records.Count, pair) : RunPassThrough(broker, input, records.Count, pair);
                log.WriteLine($"  {run.Loop,-12} {run.PerSecond,10:N0} records/s  {run.CpuMicrosecondsPerRecord,6:F1} us CPU/record  {run.BytesAllocatedPerRecord,6:F0} B allocated/record  {run.Commits} transactions, {run.Committed:N0} committed outputs");
                runs.Add(run);
            }
        }

        return new Result(runs, streams, rounds);
    }

    public static KafkaTransportOptions Options(Broker broker, string input, string name, int outputPartitions = Broker.OutputPartitions) => new()
    {
        BootstrapServers = broker.BootstrapServers,
        GroupId = $"e2e-{name}",
        InstanceId = "0",
        InputTopic = input,
        FilteredTopic = broker.NewTopic($"{name}.filtered", outputPartitions),
        SmoothedTopic = broker.NewTopic($"{name}.smoothed", outputPartitions),
        ForecastTopic = broker.NewTopic($"{name}.forecasts", outputPartitions),
        AnomalyTopic = broker.NewTopic($"{name}.anomalies", outputPartitions),
        DeadLetterTopic = broker.NewTopic($"{name}.deadletters", outputPartitions),
        ChangelogTopic = broker.NewTopic($"{name}.changelog", Broker.InputPartitions),
        CommitInterval = TimeSpan.FromMilliseconds(100),
        MaxBatchSize = 10_000,
        TransactionTimeout = TimeSpan.FromSeconds(10),
        GroupProtocol = "consumer",

        // The embedded broker holds a fetch that finds no new data for the whole fetch.wait.max.ms, where a real
        // broker answers as soon as data arrives (fetch.min.bytes=1); a short wait gives the real broker's behaviour.
        Client = { ["fetch.wait.max.ms"] = "5" },
    };

    private static Run RunWorker(Broker broker, string input, Processing.Models.ModelRouter router, long expected, int pair)
    {
        var options = Options(broker, input, pair < 0 ? "worker-warmup" : $"worker{pair}");
        using var runner = LoopRunner.Worker(options, router);
        var (seconds, cpu, allocated) = Time(runner, expected);
        var commits = runner.Commits;
        runner.Dispose();
        var committed = broker.CountCommitted(options.FilteredTopic, Broker.OutputPartitions);
        return new Run("worker", expected, seconds, cpu, allocated, commits, committed);
    }

    private static Run RunPassThrough(Broker broker, string input, long expected, int pair)
    {
        var options = Options(broker, input, pair < 0 ? "pass-warmup" : $"pass{pair}");
        using var runner = LoopRunner.PassThrough(options, options.FilteredTopic);
        var (seconds, cpu, allocated) = Time(runner, expected);
        var commits = runner.Commits;
        runner.Dispose();
        var committed = broker.CountCommitted(options.FilteredTopic, Broker.OutputPartitions);
        return new Run("pass-through", expected, seconds, cpu, allocated, commits, committed);
    }

    /// <summary>From the moment every partition is assigned to the commit of the last record.</summary>
    internal static (double Seconds, double Cpu, long Allocated) Time(LoopRunner runner, long expected)
    {
        var deadline = Stopwatch.StartNew();
        while (!runner.Assigned(Broker.InputPartitions))
        {
            runner.ThrowIfFailed();
            Check(deadline, "partition assignment");
            Thread.Sleep(1);
        }

        var start = DateTimeOffset.UtcNow;
        var probe = Measure.Start();
        long commitsAtEnd = -1;
        var cpuAtEnd = TimeSpan.Zero;
        long allocatedAtEnd = 0;
        var quiet = Stopwatch.StartNew();
        while (true)
        {
            runner.ThrowIfFailed();
            Check(deadline, $"{expected:N0} records (processed {runner.Processed:N0})");
            var commits = runner.Commits;
            if (runner.Processed >= expected && commits != commitsAtEnd)
            {
                // A commit after the last record: remember the costs now, then make sure no later commit follows.
                commitsAtEnd = commits;
                cpuAtEnd = Measure.CpuNow();
                allocatedAtEnd = GC.GetTotalAllocatedBytes(precise: false);
                quiet.Restart();
            }

            if (commitsAtEnd >= 0 && quiet.Elapsed > TimeSpan.FromMilliseconds(400))
            {
                break;
            }

            Thread.Sleep(1);
        }

        var seconds = (runner.LastCommit - start).TotalSeconds;
        return (seconds, (cpuAtEnd - probe.Cpu).TotalSeconds, allocatedAtEnd - probe.Allocated);
    }

    private static void Check(Stopwatch clock, string what)
    {
        if (clock.Elapsed > TimeSpan.FromMinutes(5))
        {
            throw new TimeoutException($"waited 5 minutes for {what}.");
        }
    }
}
