using System.Reactive.Concurrency;
using CsCheck;
using StreamSeq.Processing.Alerts;

namespace StreamSeq.Processing.Tests.Alerts;

/// <summary>The alert dispatcher's batching, back-pressure, pacing, retries and drop policy, in virtual time.</summary>
public sealed class AlertDispatcherTests
{
    private readonly HistoricalScheduler scheduler = new(DateTimeOffset.UnixEpoch);

    private static AlertNotification Alert(string stream) => new(stream, "m", "r", 5, 3, "1", "[1]", "[0]", DateTimeOffset.UnixEpoch);

    private void At(double seconds, Action action) => scheduler.ScheduleAbsolute(DateTimeOffset.UnixEpoch.AddSeconds(seconds), action);

    private void RunTo(double seconds) => scheduler.AdvanceTo(DateTimeOffset.UnixEpoch.AddSeconds(seconds));

    [Fact]
    public void Offer_AFewAlerts_GoAsOneBatchAtTheEndOfTheBatchInterval()
    {
        var sink = new VirtualSink(scheduler);
        using var dispatcher = new AlertDispatcher(sink, new AlertDispatcherOptions { BatchInterval = TimeSpan.FromSeconds(1) }, scheduler);
        At(0.2, () => dispatcher.Offer(Alert("a")));
        At(0.3, () => dispatcher.Offer(Alert("b")));
        At(0.4, () => dispatcher.Offer(Alert("c")));
        RunTo(5);
        var request = Assert.Single(sink.Requests);
        Assert.Equal(1.0, request.At, 6);
        Assert.Equal(["a", "b", "c"], request.Streams);
        Assert.Equal(3, dispatcher.Sent);
    }

    [Fact]
    public void Offer_AFullBatchWaiting_GoesAtOnce()
    {
        var sink = new VirtualSink(scheduler);
        using var dispatcher = new AlertDispatcher(sink, new AlertDispatcherOptions { MaxBatchSize = 4, BatchInterval = TimeSpan.FromSeconds(10) }, scheduler);
        At(0.5, () =>
        {
            foreach (var s in new[] { "a", "b", "c", "d", "e" })
            {
                dispatcher.Offer(Alert(s));
            }
        });
        RunTo(0.5);
        var first = Assert.Single(sink.Requests);
        Assert.Equal(0.5, first.At, 6);
        Assert.Equal(["a", "b", "c", "d"], first.Streams);
        RunTo(30);
        Assert.Equal(["e"], sink.Requests[1].Streams);
        Assert.True(sink.Requests[1].At <= 10.5 + 1e-9, $"the fifth alert waited until {sink.Requests[1].At} s");
    }

    [Fact]
    public void Deliver_SlowReceiver_OneRequestAtATimeAndTheBacklogGoesInFullBatches()
    {
        // Each request takes 5 s; an alert arrives every 0.1 s for 20 s.
        var sink = new VirtualSink(scheduler, _ => VirtualSink.Answer.After(5));
        using var dispatcher = new AlertDispatcher(sink, new AlertDispatcherOptions { MaxBatchSize = 10, BatchInterval = TimeSpan.FromSeconds(1), MaxRequestsPerSecond = 100 }, scheduler);
        for (var i = 0; i < 200; i++)
        {
            var stream = $"s{i:D3}";
            At(0.05 + (0.1 * i), () => dispatcher.Offer(Alert(stream)));
        }

        RunTo(600);
        Assert.Equal(1, sink.MaxInFlight);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"s{i:D3}"), sink.Requests.SelectMany(r => r.Streams));
        Assert.All(sink.Requests, r => Assert.InRange(r.Streams.Length, 1, 10));

        // While a request is out, alerts wait and then leave in full batches: 20 requests, not one per second.
        Assert.True(sink.Requests.Count <= 21, $"{sink.Requests.Count} requests");
        Assert.True(sink.Requests.Count(r => r.Streams.Length == 10) >= 18, string.Join(",", sink.Requests.Select(r => r.Streams.Length)));
        Assert.Equal((200, 0, 0), (dispatcher.Sent, dispatcher.Dropped, dispatcher.Failed));
    }

    [Fact]
    public void Offer_QueueFullWhileTheReceiverHangs_DropsTheOldestAndCountsThem()
    {
        var sink = new VirtualSink(scheduler, n => n == 1 ? VirtualSink.Answer.Never : VirtualSink.Answer.Ok);
        using var dispatcher = new AlertDispatcher(sink, new AlertDispatcherOptions { MaxBatchSize = 5, QueueCapacity = 10, BatchInterval = TimeSpan.FromSeconds(1), MaxRequestsPerSecond = 100 }, scheduler);
        var refused = 0;
        At(0.1, () =>
        {
            for (var i = 0; i < 5; i++)
            {
                dispatcher.Offer(Alert($"s{i:D2}"));
            }
        });
        At(0.2, () =>
        {
            for (var i = 5; i < 25; i++)
            {
                refused += dispatcher.Offer(Alert($"s{i:D2}")) ? 0 : 1;
            }
        });
        RunTo(10);

        // The first five are in the hung request; of the next twenty only the newest ten wait.
        var hung = Assert.Single(sink.Requests);
        Assert.Equal(0.1, hung.At, 6);
        Assert.Equal(["s00", "s01", "s02", "s03", "s04"], hung.Streams);
        Assert.Equal((10, 10L, 10), (refused, dispatcher.Dropped, dispatcher.Waiting));

        sink.Release();
        RunTo(20);
        Assert.Equal(new[] { 0, 1, 2, 3, 4 }.Concat(Enumerable.Range(15, 10)).Select(i => $"s{i:D2}"), sink.Requests.SelectMany(r => r.Streams));
        Assert.Equal((15L, 10L, 25L), (dispatcher.Sent, dispatcher.Dropped, dispatcher.Offered));
    }

    [Fact]
    public void Deliver_MaxRequestsPerSecond_SpacesRequests()
    {
        var sink = new VirtualSink(scheduler);
        using var dispatcher = new AlertDispatcher(sink, new AlertDispatcherOptions { MaxBatchSize = 1, MaxRequestsPerSecond = 2 }, scheduler);
        At(0.5, () =>
        {
            for (var i = 0; i < 5; i++)
            {
                dispatcher.Offer(Alert($"s{i}"));
            }
        });
        RunTo(10);
        Assert.Equal([0.5, 1.0, 1.5, 2.0, 2.5], sink.Requests.Select(r => Math.Round(r.At, 6)));
    }

    [Fact]
    public void Deliver_TransientFailures_RetriedWithDoublingBackOffThenDelivered()
    {
        var sink = new VirtualSink(scheduler, n => n <= 2 ? VirtualSink.Answer.Fail(transient: true) : VirtualSink.Answer.Ok);
        using var dispatcher = new AlertDispatcher(sink, new AlertDispatcherOptions { MaxBatchSize = 1, MaxAttempts = 3, RetryBackoff = TimeSpan.FromSeconds(1), MaxRequestsPerSecond = 100 }, scheduler);
        var outcomes = new List<(AlertDeliveryOutcome, int)>();
        using var log = dispatcher.Deliveries.Subscribe(d => outcomes.Add((d.Outcome, d.Attempt)));
        At(0.1, () => dispatcher.Offer(Alert("a")));
        RunTo(10);
        Assert.Equal([0.1, 1.1, 3.1], sink.Requests.Select(r => Math.Round(r.At, 6)));
        Assert.Equal([(AlertDeliveryOutcome.Retrying, 1), (AlertDeliveryOutcome.Retrying, 2), (AlertDeliveryOutcome.Sent, 3)], outcomes);
        Assert.Equal((1L, 0L, 3L), (dispatcher.Sent, dispatcher.Failed, dispatcher.Requests));
    }

    [Fact]
    public void Deliver_PermanentFailure_GivesUpAtOnceAndTheNextBatchStillGoes()
    {
        var sink = new VirtualSink(scheduler, n => n == 1 ? VirtualSink.Answer.Fail(transient: false) : VirtualSink.Answer.Ok);
        using var dispatcher = new AlertDispatcher(sink, new AlertDispatcherOptions { MaxBatchSize = 2, MaxAttempts = 5 }, scheduler);
        At(0.1, () =>
        {
            dispatcher.Offer(Alert("a"));
            dispatcher.Offer(Alert("b"));
        });
        At(3.1, () => dispatcher.Offer(Alert("c")));
        RunTo(10);
        Assert.Equal([["a", "b"], ["c"]], sink.Requests.Select(r => r.Streams));
        Assert.Equal((1L, 2L), (dispatcher.Sent, dispatcher.Failed));
    }

    [Fact]
    public void Deliver_TransientFailureEveryTime_GivesUpAfterMaxAttempts()
    {
        var sink = new VirtualSink(scheduler, n => n <= 3 ? VirtualSink.Answer.Fail(transient: true) : VirtualSink.Answer.Ok);
        using var dispatcher = new AlertDispatcher(sink, new AlertDispatcherOptions { MaxBatchSize = 1, MaxAttempts = 3, RetryBackoff = TimeSpan.FromSeconds(1) }, scheduler);
        At(0.1, () => dispatcher.Offer(Alert("a")));
        At(20, () => dispatcher.Offer(Alert("b")));
        RunTo(30);
        Assert.Equal(["a", "a", "a", "b"], sink.Requests.Select(r => r.Streams.Single()));
        Assert.Equal((1L, 1L), (dispatcher.Sent, dispatcher.Failed));
    }

    [Fact]
    public async Task CompleteAsync_AlertsWaiting_DeliversThemBeforeCompleting()
    {
        var sink = new VirtualSink(scheduler, _ => VirtualSink.Answer.After(2));
        using var dispatcher = new AlertDispatcher(sink, new AlertDispatcherOptions { BatchInterval = TimeSpan.FromSeconds(30), MaxBatchSize = 2 }, scheduler);
        Task? completion = null;
        At(0.1, () =>
        {
            foreach (var s in new[] { "a", "b", "c" })
            {
                dispatcher.Offer(Alert(s));
            }
        });
        At(0.2, () => completion = dispatcher.CompleteAsync(CancellationToken.None));
        RunTo(1);
        Assert.False(completion!.IsCompleted);
        RunTo(10);

        // The pipeline finished in virtual time; the awaiting method resumes on a pool thread.
        await completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal([["a", "b"], ["c"]], sink.Requests.Select(r => r.Streams));
        Assert.False(dispatcher.Offer(Alert("late")));
        Assert.Equal((3L, 1L), (dispatcher.Sent, dispatcher.Dropped));
    }

    /// <summary>
    /// Any arrivals and receiver latencies: one request at a time, batches within bounds, requests spaced by the rate
    /// limit, alerts delivered in order, and every alert either delivered or dropped and counted.
    /// </summary>
    [Fact]
    public void Dispatch_AnyArrivalsAndLatencies_BoundsHoldAndEveryAlertIsAccountedFor()
    {
        var arrivals = Gen.Double[0, 30].Array[0, 120];
        var latencies = Gen.Double[0, 4].Array[1, 20];
        Gen.Select(arrivals, latencies, Gen.Int[1, 8], Gen.Int[8, 40]).Sample((times, delays, batch, capacity) =>
        {
            var virtualTime = new HistoricalScheduler(DateTimeOffset.UnixEpoch);
            var sink = new VirtualSink(virtualTime, n => VirtualSink.Answer.After(delays[n % delays.Length]));
            var options = new AlertDispatcherOptions { MaxBatchSize = batch, QueueCapacity = capacity, BatchInterval = TimeSpan.FromSeconds(0.5), MaxRequestsPerSecond = 4 };
            using var dispatcher = new AlertDispatcher(sink, options, virtualTime);
            var order = times.Order().ToArray();
            for (var i = 0; i < order.Length; i++)
            {
                var stream = $"s{i:D4}";
                virtualTime.ScheduleAbsolute(DateTimeOffset.UnixEpoch.AddSeconds(order[i]), () => dispatcher.Offer(Alert(stream)));
            }

            virtualTime.ScheduleAbsolute(DateTimeOffset.UnixEpoch.AddSeconds(31), () => _ = dispatcher.CompleteAsync(CancellationToken.None));
            virtualTime.AdvanceTo(DateTimeOffset.UnixEpoch.AddSeconds(10_000));

            var delivered = sink.Requests.SelectMany(r => r.Streams).ToList();
            return dispatcher.Waiting == 0
                && sink.MaxInFlight <= 1
                && sink.Requests.All(r => r.Streams.Length >= 1 && r.Streams.Length <= batch)
                && sink.Requests.Zip(sink.Requests.Skip(1)).All(p => p.Second.At - p.First.At >= 0.25 - 1e-9)
                && delivered.SequenceEqual(delivered.Order(StringComparer.Ordinal))
                && delivered.Distinct().Count() == delivered.Count
                && dispatcher.Sent == delivered.Count
                && dispatcher.Sent + dispatcher.Dropped == order.Length
                && dispatcher.Offered == order.Length;
        });
    }
}
