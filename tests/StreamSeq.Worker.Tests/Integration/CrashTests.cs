using Xunit.Abstractions;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>
/// Exactly-once under crash: a worker process is killed with SIGKILL at random points while 100,000 records over
/// 1,000 streams flow; after restarts the committed outputs hold every expected record exactly once, byte for byte
/// equal to an uninterrupted run.
/// </summary>
public sealed class CrashTests(ITestOutputHelper output)
{
    [Fact]
    public void Run_WorkerProcessKilledRepeatedly_EveryOutputExactlyOnceAndBitIdentical()
    {
        using var directory = new Scratch("streamseq-crash-");
        using var bed = new KafkaTestBed("crash-group");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var input = TestInput.Generate(streams: 1000, perStream: 100, seed: 7);
        var settings = WorkerProcess.Settings(bed, "crash-1", commitInterval: "00:00:01");

        var producing = bed.ProduceInBackground(input, perSecond: 5000);
        var rng = new Random(2026);
        var kills = 0;
        var killedAt = new List<int>();
        WorkerProcess? worker = null;
        try
        {
            for (var run = 0; run < 5; run++)
            {
                worker = WorkerProcess.Start(settings, Path.Combine(directory.Directory, $"run{run}"));
                if (run == 4)
                {
                    break;
                }

                // Kill at a random point once this incarnation is producing: between or inside transactions. Waiting
                // for progress first keeps the test meaningful on a slow or loaded machine.
                var before = bed.HighWatermarkSum(bed.Options.FilteredTopic);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (bed.HighWatermarkSum(bed.Options.FilteredTopic) <= before && clock.Elapsed < TimeSpan.FromSeconds(90))
                {
                    Assert.False(worker.HasExited, $"worker exited on its own:\n{worker.Logs()}");
                    Thread.Sleep(200);
                }

                Thread.Sleep(TimeSpan.FromMilliseconds(rng.Next(200, 2500)));
                Assert.False(worker.HasExited, $"worker exited on its own:\n{worker.Logs()}");
                worker.Kill();
                kills++;
                killedAt.Add(bed.ReadMessages(bed.Options.FilteredTopic).Count);
            }

            producing.Join();
            bed.WaitForFiltered(input.Count, TimeSpan.FromMinutes(3), () => worker!.Logs());
        }
        finally
        {
            worker?.Dispose();
        }

        Assert.Equal(4, kills);

        // The kills must have hit a worker that was producing, or the test proves nothing.
        var raw = bed.ReadMessages(bed.Options.FilteredTopic).Count;
        output.WriteLine($"filtered records visible on the broker after each kill: {string.Join(", ", killedAt)}; at the end {raw} visible, {input.Count} committed; changelog offsets [{bed.Extents(bed.Options.ChangelogTopic, KafkaTestBed.InputPartitions)}]");
        Assert.True(killedAt.Count(c => c > 0 && c < input.Count) >= 3, $"at least three kills should land mid-stream: {string.Join(", ", killedAt)}");
        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));
    }
}
