using System.Diagnostics;
using System.Globalization;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.Telemetry;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>
/// <see cref="KafkaStreamWorker.QueryAsync"/> against a loop on the embedded broker that is held inside a record: the
/// output tap (the dashboard's hook, called by the loop for every output) blocks until the test lets it go, so the
/// loop cannot answer between records meanwhile, as in a long restore or a commit waiting for the broker.
/// </summary>
public sealed class StreamQueryTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task QueryAsync_LoopHeldInsideARecord_TimesOutQueueIsBoundedAndLateAnswersGoNowhere()
    {
        using var bed = new KafkaTestBed("query-held");
        var hold = new LoopHold();
        using var handle = bed.StartInProcess("q1", options => Worker(options, hold, maxPendingQueries: 3));

        // Released before the handle stops the loop (disposals run in reverse order), even when an assertion fails.
        using var release = hold;
        var worker = handle.Worker;
        bed.Produce(Readings("sensor-1", 0, 3));
        await WaitForSteps(worker, "sensor-1", 3);

        hold.Engage();
        bed.Produce(Readings("sensor-1", 3, 1));
        hold.WaitUntilHeld(Patience);

        // The loop is inside the fourth record: the wait ends at its bound (it used to last until the loop answered).
        Assert.Equal(StreamQueryOutcome.TimedOut, (await worker.QueryAsync("sensor-1", TimeSpan.FromMilliseconds(200))).Outcome);

        // A client that goes away ends its wait at once.
        using (var gone = new CancellationTokenSource())
        {
            var abandoned = worker.QueryAsync("sensor-1", Timeout.InfiniteTimeSpan, gone.Token);
            await gone.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned);
        }

        // The two abandoned queries keep their places until the loop takes them: one more fits, the next is refused
        // at once instead of growing the queue.
        var waiting = worker.QueryAsync("sensor-1", Timeout.InfiniteTimeSpan);
        Assert.Equal(3, worker.PendingQueries);
        var refused = worker.QueryAsync("sensor-1", Timeout.InfiniteTimeSpan);
        Assert.True(refused.IsCompleted, "a query beyond MaxPendingQueries must be refused at once");
        Assert.Equal(StreamQueryOutcome.Full, (await refused).Outcome);
        Assert.False(waiting.IsCompleted);

        // Let go: the loop answers the one still waiting, with the fourth record in, and skips the abandoned ones
        // without an exception (the worker would record it as its fault).
        hold.Release();
        var answer = await waiting.WaitAsync(Patience);
        Assert.Equal(StreamQueryOutcome.Answered, answer.Outcome);
        Assert.Equal(4, Assert.IsType<StreamSnapshot>(answer.Snapshot).Steps);
        Assert.Equal(0, worker.PendingQueries);
        Assert.Null(handle.Error);
        Assert.Equal(StreamQueryOutcome.Answered, (await worker.QueryAsync("sensor-1", Patience)).Outcome);
        Assert.Null((await worker.QueryAsync("nobody", Patience)).Snapshot);
    }

    [Fact]
    public async Task QueryAsync_PendingWhenTheLoopStops_AnsweredStoppedAndLaterOnesAtOnce()
    {
        using var bed = new KafkaTestBed("query-stop");
        var hold = new LoopHold();
        using var handle = bed.StartInProcess("q1", options => Worker(options, hold, KafkaStreamWorker.DefaultMaxPendingQueries));

        // Released before the handle stops the loop (disposals run in reverse order), even when an assertion fails.
        using var release = hold;
        var worker = handle.Worker;
        bed.Produce(Readings("sensor-1", 0, 2));
        await WaitForSteps(worker, "sensor-1", 2);

        hold.Engage();
        bed.Produce(Readings("sensor-1", 2, 1));
        hold.WaitUntilHeld(Patience);
        var pending = worker.QueryAsync("sensor-1", Timeout.InfiniteTimeSpan);

        // The host stops the loop while it is held: the loop finishes the record, commits, leaves the group and ends
        // without taking another look at its queries; the one waiting must not wait forever.
        handle.RequestStop();
        hold.Release();
        Assert.Equal(StreamQueryOutcome.Stopped, (await pending.WaitAsync(Patience)).Outcome);
        var after = worker.QueryAsync("sensor-1", Timeout.InfiniteTimeSpan);
        Assert.True(after.IsCompleted, "a query after the loop stopped must be answered at once");
        Assert.Equal(StreamQueryOutcome.Stopped, (await after).Outcome);
        Assert.Equal(0, worker.PendingQueries);
    }

    [Fact]
    public async Task QueryAsync_LoopNotStarted_AnsweredAtOnceNotStarted()
    {
        using var bed = new KafkaTestBed("query-idle");
        using var worker = Worker(bed.Options, hold: null, KafkaStreamWorker.DefaultMaxPendingQueries);

        // Used to be answered like a stream the worker does not own (a 404 on the API).
        var answer = worker.QueryAsync("sensor-1", Timeout.InfiniteTimeSpan);
        Assert.True(answer.IsCompleted);
        Assert.Equal(new StreamQueryResult(StreamQueryOutcome.NotStarted), await answer);
    }

    [Fact]
    public async Task QueryAsync_Next_IsTheLocalLevelsClosedFormAndQueriesLeaveLaterOutputsAsWithoutThem()
    {
        using var bed = new KafkaTestBed("query-next");
        using var handle = bed.StartInProcess("q1", options => Worker(options, hold: null, KafkaStreamWorker.DefaultMaxPendingQueries));
        var worker = handle.Worker;

        // TestInput.Model: a local level with prior N(0, 100), level noise q = 0.1 per minute, observation noise r = 0.4,
        // forecastStep 1 (one minute). Filtered by hand: the next reading is N(m, P + q + r) one minute on.
        const double Q = 0.1, R = 0.4;
        double m = 0, p = 100;
        var input = new List<(string Stream, string Value)>();
        for (var t = 0; t < 6; t++)
        {
            var reading = Readings("sensor-1", t, 1);
            bed.Produce(reading);
            input.AddRange(reading);
            var predicted = p + (t == 0 ? 0 : Q);
            var gain = predicted / (predicted + R);
            m += gain * (20 + t - m);
            p = (1 - gain) * predicted;

            // Queried after every reading, several times: the stream's later outputs must not notice.
            await WaitForSteps(worker, "sensor-1", t + 1);
            var next = Assert.IsType<StreamPrediction>((await worker.QueryAsync("sensor-1", Patience)).Snapshot!.Next);
            Assert.Equal(TestInput.Start.AddMinutes(t + 1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture), next.Time!.GetValue<string>());
            Assert.Equal(m, Assert.Single(next.Mean), 1e-9);
            Assert.Equal(p + Q + R, Assert.Single(Assert.Single(next.Cov)), 1e-9);
        }

        // A reading whose next one (a minute on) falls after 9999: no record could carry that time, so it is null.
        var last = ("sensor-9999", "{\"time\":\"9999-12-31T23:59:30Z\",\"values\":[7]}");
        bed.Produce([last]);
        input.Add(last);
        await WaitForSteps(worker, "sensor-9999", 1);
        var late = Assert.IsType<StreamPrediction>((await worker.QueryAsync("sensor-9999", Patience)).Snapshot!.Next);
        Assert.Null(late.Time);
        Assert.True(double.IsFinite(Assert.Single(late.Mean)), "the prediction stands without a time");

        // Every output equals an uninterrupted run's without queries.
        bed.WaitForFiltered(input.Count, Patience);
        OutputAssert.ExactlyOnce(bed, bed.Expected(input, KafkaTestBed.Router(TestInput.Model, lag: 0, horizon: 0)));
        Assert.Null(handle.Error);
    }

    [Fact]
    public async Task QueryAsync_StreamWithNoStepYet_NextIsNull()
    {
        // With an allowed lateness the first reading waits for the stream's watermark: the stream exists, unstepped.
        using var bed = new KafkaTestBed("query-unstepped");
        using var handle = bed.StartInProcess("q1", options => Worker(options, hold: null, KafkaStreamWorker.DefaultMaxPendingQueries, new ProcessorOptions { AllowedLateness = TimeSpan.FromHours(1) }));
        bed.Produce(Readings("sensor-1", 0, 1));
        var clock = Stopwatch.StartNew();
        StreamSnapshot? snapshot;
        while ((snapshot = (await handle.Worker.QueryAsync("sensor-1", Patience)).Snapshot) is null)
        {
            Assert.True(clock.Elapsed < Patience, "the loop did not take the reading in");
            await Task.Delay(100);
        }

        Assert.Equal(0, snapshot.Steps);
        Assert.Null(snapshot.Next);
        Assert.Null(handle.Error);
    }

    private static KafkaStreamWorker Worker(KafkaTransportOptions options, LoopHold? hold, int maxPendingQueries, ProcessorOptions? processing = null) =>
        new(
            options,
            KafkaTestBed.Router(TestInput.Model, lag: 0, horizon: 0),
            processing ?? new ProcessorOptions(),
            new ProcessingMetrics(),
            new KafkaTransportMetrics(),
            TestLog.For<KafkaStreamWorker>(options.InstanceId),
            tap: hold is null ? null : (_, _, _) => hold.Pass())
        {
            MaxPendingQueries = maxPendingQueries,
        };

    private static List<(string Stream, string Value)> Readings(string stream, int from, int count) =>
        [.. Enumerable.Range(from, count).Select(t => (stream, $"{{\"time\":\"{TestInput.Start.AddMinutes(t).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}\",\"values\":[{20 + t}]}}"))];

    private static async Task WaitForSteps(KafkaStreamWorker worker, string stream, long steps)
    {
        var clock = Stopwatch.StartNew();
        while ((await worker.QueryAsync(stream, Patience)).Snapshot?.Steps != steps)
        {
            Assert.True(clock.Elapsed < Patience, $"the loop did not process {steps} readings of {stream} within {Patience}");
            await Task.Delay(100);
        }
    }

    /// <summary>Holds the loop in the output tap while engaged: the next output blocks until <see cref="Release"/>.</summary>
    private sealed class LoopHold : IDisposable
    {
        private readonly ManualResetEventSlim gate = new(true);
        private readonly ManualResetEventSlim held = new(false);
        private volatile bool engaged;

        public void Engage()
        {
            gate.Reset();
            held.Reset();
            engaged = true;
        }

        public void WaitUntilHeld(TimeSpan timeout) => Assert.True(held.Wait(timeout), "the loop never reached the held record");

        public void Release()
        {
            engaged = false;
            gate.Set();
        }

        /// <summary>Called by the loop for every output.</summary>
        public void Pass()
        {
            if (engaged)
            {
                held.Set();
                gate.Wait();
            }
        }

        public void Dispose()
        {
            Release();
            gate.Dispose();
            held.Dispose();
        }
    }
}
