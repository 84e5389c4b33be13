using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using StreamSeq.Kafka.Embedded;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Hosting;

/// <summary>
/// The stop signal convention for a worker process: the first Ctrl+C (SIGINT), SIGTERM or SIGQUIT stops it gracefully
/// (exit code 0, which <c>LogTextTests</c>, <c>DiskStoreTests</c> and <c>StandbyTests</c> check for SIGTERM); a second
/// one while that stop is under way ends it at once with 130, 143 or 131 and one line on standard error, instead of the
/// graceful stop's wait for a commit that hangs. A signal within a second of the first is the same request delivered
/// twice (a launcher such as <c>dotnet run</c> forwarding what the process group got) and does not count.
/// </summary>
public sealed class SecondStopSignalTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly Scratch scratch = new("streamseq-second-signal-");

    public void Dispose() => scratch.Dispose();

    [SkippableTheory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 143)]
    [InlineData("QUIT", 131)]
    public void Worker_SecondSignalWhileTheGracefulStopWaitsForAHungCommit_ExitsAtOnce(string signal, int expected)
    {
        Skip.IfNot(OperatingSystem.IsLinux() && WorkerProcess.RestoresStopSignals(), "needs coreutils env --default-signal (8.31 or later) to give the worker deliverable SIGINT and SIGQUIT");
        using var bed = new KafkaTestBed("second-signal");
        using var worker = WorkerProcess.Start(bed.WorkerSettings($"second-{signal.ToLowerInvariant()}"), scratch.File(signal), deliverableStopSignals: true);
        Assert.True(worker.WaitReady(Patience), worker.Logs());
        bed.Produce(Readings(0, 10));
        bed.WaitForFiltered(10, Patience, worker.Logs);

        // Every EndTxn fails with an error the client retries: the open transaction's commit, which the graceful stop
        // waits for, hangs for longer than the host's 30 s shutdown timeout.
        bed.Cluster.PushRequestErrors(KafkaApiKey.EndTxn, [.. Enumerable.Repeat(ErrorCode.ConcurrentTransactions, 5000)]);
        bed.Produce(Readings(10, 10));

        // The stop must find those readings stepped in the open transaction, whose commit then hangs: a fixed pause
        // was not always enough on a loaded machine (the stop then found nothing to commit and ended with 0).
        var stepped = Stopwatch.StartNew();
        while (Processed(worker) < 20 && stepped.Elapsed < Patience)
        {
            Thread.Sleep(100);
        }

        Assert.True(Processed(worker) >= 20, $"the second batch was not stepped within {Patience}:\n{worker.Logs()}");
        Thread.Sleep(TimeSpan.FromSeconds(1));
        worker.Signal(signal);
        Assert.False(worker.WaitForExit(TimeSpan.FromSeconds(3)), $"the graceful stop should still wait for the commit (exit code {(worker.HasExited ? worker.ExitCode : 0)}):\n{worker.Logs()}");
        var clock = Stopwatch.StartNew();

        worker.Signal(signal);

        // At once: well within the graceful stop's 30 s, which has at least 27 s left (a loaded machine may take a few
        // seconds to run the process's exit).
        Assert.True(worker.WaitForExit(TimeSpan.FromSeconds(15)), $"still running {clock.Elapsed} after the second signal:\n{worker.Logs()}");
        Assert.Equal(expected, worker.ExitCode);
        Assert.Contains($"streamseq worker: SIG{signal} again: graceful stop abandoned, exiting now.", worker.Logs(), StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>kill -TERM -- -PGID</c> on <c>dotnet run</c> reaches the worker twice, a few milliseconds apart (directly, and
    /// forwarded by <c>dotnet run</c>): the copy is no second request, and the graceful stop completes with exit code 0.
    /// </summary>
    [SkippableTheory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public void Worker_SameSignalTwiceInQuickSuccession_StopsGracefullyWithExitCode0(string signal)
    {
        Skip.IfNot(OperatingSystem.IsLinux() && WorkerProcess.RestoresStopSignals(), "needs coreutils env --default-signal (8.31 or later) to give the worker deliverable SIGINT and SIGQUIT");
        using var bed = new KafkaTestBed("duplicate-signal");
        using var worker = WorkerProcess.Start(bed.WorkerSettings($"duplicate-{signal.ToLowerInvariant()}"), scratch.File(signal), deliverableStopSignals: true);
        Assert.True(worker.WaitReady(Patience), worker.Logs());
        bed.Produce(Readings(0, 10));
        bed.WaitForFiltered(10, Patience, worker.Logs);
        bed.Produce(Readings(10, 10));

        // The stop must come once the second batch is stepped: signalled earlier, the worker stops before it fetches
        // the batch (a clean stop, exit 0) and nothing is left running to write its outputs, which this test counts.
        var stepped = Stopwatch.StartNew();
        while (Processed(worker) < 20 && stepped.Elapsed < Patience)
        {
            Thread.Sleep(100);
        }

        Assert.True(Processed(worker) >= 20, $"the second batch was not stepped within {Patience}:\n{worker.Logs()}");
        worker.Signal(signal);
        worker.Signal(signal);

        Assert.True(worker.WaitForExit(Patience), worker.Logs());
        Assert.True(worker.ExitCode == 0, $"exit code {worker.ExitCode}:\n{worker.Logs()}");
        Assert.DoesNotContain("again: graceful stop abandoned", worker.Logs(), StringComparison.Ordinal);
        bed.WaitForFiltered(20, Patience, worker.Logs);
    }

    /// <summary>Readings the worker has stepped (<c>processed</c> in /api/status); -1 while it does not answer.</summary>
    private static long Processed(WorkerProcess worker)
    {
        var (status, body) = worker.Get("/api/status");
        return status == 200 ? System.Text.Json.Nodes.JsonNode.Parse(body)?["processed"]?.GetValue<long>() ?? -1 : -1;
    }

    private static List<(string Stream, string Value)> Readings(int from, int count) =>
        [.. Enumerable.Range(from, count).Select(t => ("sensor-1", $"{{\"time\":\"{TestInput.Start.AddMinutes(t).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}\",\"values\":[{20 + t}]}}"))];
}
