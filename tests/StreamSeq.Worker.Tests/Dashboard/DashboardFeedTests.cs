using System.Globalization;
using System.Text;
using System.Text.Json;
using StreamSeq.Kafka.Stores;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.Telemetry;
using StreamSeq.Worker.Configuration;
using StreamSeq.Worker.Dashboard;
using StreamSeq.Worker.Tests.Support;
using static StreamSeq.Worker.Tests.Integration.ExactlyOnceTests;

namespace StreamSeq.Worker.Tests.Dashboard;

public sealed class DashboardFeedTests
{
    private static double Time(string valueJson) =>
        DateTimeOffset.Parse(JsonDocument.Parse(valueJson).RootElement.GetProperty("time").GetString()!, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();

    private static double[] Values(string valueJson) =>
        [.. JsonDocument.Parse(valueJson).RootElement.GetProperty("values").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? double.NaN : v.GetDouble())];

    [Fact]
    public async Task Apply_RecordsOfARun_HistoryAndSummaryMatchTheRecords()
    {
        using var harness = new FeedHarness(new DashboardSettings { History = 1000 });
        var input = TestInput.Generate(streams: 3, perStream: 120, seed: 5);
        var outputs = await harness.RunAsync(input);

        Assert.Equal(3, harness.Feed.StreamCount);
        Assert.Equal(0, harness.Feed.IngestDropped);
        Assert.Equal(0, harness.Feed.Unreadable);
        foreach (var stream in new[] { "sensor-0000", "sensor-0001", "sensor-0002" })
        {
            var history = harness.History(stream);
            Assert.Equal("level", history.GetProperty("model").GetString());
            Assert.Equal("kalman", history.GetProperty("family").GetString());
            Assert.Equal(2, history.GetProperty("lag").GetInt32());
            Assert.True(history.GetProperty("projected").GetBoolean());

            // Readings: exactly the stream's input, in order (missing values as null).
            var readings = input.Where(r => r.Stream == stream).Select(r => r.Value).ToList();
            var observations = history.GetProperty("observations").EnumerateArray().ToList();
            Assert.Equal(readings.Count, observations.Count);
            for (var i = 0; i < readings.Count; i++)
            {
                Assert.Equal(Time(readings[i]), observations[i].GetProperty("t").GetDouble());
                var y = observations[i].GetProperty("y")[0];
                var expected = Values(readings[i])[0];
                if (double.IsNaN(expected))
                {
                    Assert.Equal(JsonValueKind.Null, y.ValueKind);
                }
                else
                {
                    Assert.Equal(expected, y.GetDouble());
                }
            }

            // Local level: H = [1], so the filtered line is the state mean and its sd the root of the state variance.
            var records = outputs.Where(o => o.Stream == stream).ToList();
            var filteredRecords = records.Where(o => o.Kind == OutputKind.Filtered).Select(o => JsonDocument.Parse(o.Json).RootElement).ToList();
            var filtered = history.GetProperty("filtered").EnumerateArray().ToList();
            Assert.Equal(filteredRecords.Count, filtered.Count);
            for (var i = 0; i < filtered.Count; i++)
            {
                var state = filteredRecords[i].GetProperty("state");
                Assert.Equal(state.GetProperty("mean")[0].GetDouble(), filtered[i].GetProperty("m")[0].GetDouble(), 12);
                Assert.Equal(Math.Sqrt(state.GetProperty("cov")[0][0].GetDouble()), filtered[i].GetProperty("s")[0].GetDouble(), 12);
            }

            Assert.Equal(records.Count(o => o.Kind == OutputKind.Smoothed), history.GetProperty("smoothed").GetArrayLength());
            var anomalies = records.Where(o => o.Kind == OutputKind.Anomaly).ToList();
            Assert.Equal(anomalies.Count, history.GetProperty("anomalies").GetArrayLength());

            // The latest forecasts: the last observation's horizons 1 and 2.
            var lastForecasts = records.Where(o => o.Kind == OutputKind.Forecast).TakeLast(2).Select(o => JsonDocument.Parse(o.Json).RootElement).ToList();
            Assert.Equal(lastForecasts.Select(f => DateTimeOffset.Parse(f.GetProperty("time").GetString()!, CultureInfo.InvariantCulture).ToUnixTimeMilliseconds()), history.GetProperty("forecast").EnumerateArray().Select(f => (long)f.GetProperty("t").GetDouble()));

            // Summary: counts, the last reading, and the mean NIS of the last 50 filtered records that have one.
            var summary = history.GetProperty("summary");
            Assert.Equal(filteredRecords.Count, summary.GetProperty("steps").GetInt32());
            Assert.Equal(anomalies.Count, summary.GetProperty("anomalies").GetInt32());
            Assert.Equal(Time(readings[^1]), summary.GetProperty("t").GetDouble());
            var nis = filteredRecords.Where(f => f.GetProperty("nis").ValueKind == JsonValueKind.Number).Select(f => f.GetProperty("nis").GetDouble()).TakeLast(50).ToList();
            Assert.Equal(nis.Average(), summary.GetProperty("nis").GetDouble(), 9);
        }

        Assert.True(outputs.Any(o => o.Kind == OutputKind.Anomaly), "the workload should raise at least one anomaly");
    }

    [Fact]
    public async Task Apply_ModelThatLearnsItsNoise_SummaryShowsTheLatestLearnedValues()
    {
        var adaptive = TestInput.Model.TrimEnd().TrimEnd('}') + """, "adapt": ["observationNoise"]}""";
        using var harness = new FeedHarness(new DashboardSettings { History = 1000 }, model: adaptive);
        var input = TestInput.Generate(streams: 2, perStream: 80, seed: 6);
        var outputs = harness.Publish(input);
        await harness.DrainAsync(input.Count + outputs.Count);
        foreach (var stream in new[] { "sensor-0000", "sensor-0001" })
        {
            var last = outputs.Where(o => o.Stream == stream && o.Kind == OutputKind.Filtered).Select(o => JsonDocument.Parse(o.Json).RootElement).Last();
            var learned = last.GetProperty("parameters").GetProperty("observationNoise");
            var shown = Assert.Single(harness.History(stream).GetProperty("summary").GetProperty("parameters").EnumerateArray());
            Assert.Equal("observationNoise[0][0]", shown.GetProperty("name").GetString());
            Assert.Equal(learned.GetProperty("value")[0][0].GetDouble(), shown.GetProperty("value").GetDouble());
            Assert.Equal(learned.GetProperty("sd")[0][0].GetDouble(), shown.GetProperty("sd").GetDouble());
        }
    }

    [Fact]
    public async Task Publish_FeedFallsBehind_DropsTheOldestRecordsAndCountsThem()
    {
        // The taps only enqueue: with the feed stopped, a queue of 64 keeps the newest 64 records and counts the rest.
        using var harness = new FeedHarness(new DashboardSettings { IngestQueue = 64 });
        var input = TestInput.Generate(streams: 1, perStream: 50, seed: 2);
        var outputs = harness.Publish(input);
        var published = input.Count + outputs.Count;
        Assert.Equal(published - 64, harness.Feed.IngestDropped);
        await harness.DrainAsync(64);
        var history = harness.History("sensor-0000");
        var lastReading = Time(input[^1].Value);
        Assert.Equal(lastReading, history.GetProperty("observations").EnumerateArray().Last().GetProperty("t").GetDouble());
        Assert.True(history.GetProperty("observations").GetArrayLength() < input.Count);
    }

    [Fact]
    public async Task Publish_FeedFallsBehindPastARevocation_StillForgetsTheRevokedPartitionsStreams()
    {
        // A revocation is news the dashboard cannot get again: unlike a dropped record (the stream's next record
        // brings it back up to date), a dropped release would leave the revoked streams listed until evicted.
        using var harness = new FeedHarness(new DashboardSettings { IngestQueue = 8 });
        var (kept, gone) = (TestInput.Generate(streams: 1, perStream: 30, seed: 3), TestInput.Generate(streams: 1, perStream: 1, seed: 4));
        harness.Inputs.Publish("revoked", Encoding.UTF8.GetBytes(gone[0].Value), double.NaN, partition: 3);
        await harness.DrainAsync(1);
        Assert.True(harness.Feed.TryGet("revoked", out _));

        harness.Ownership.Released([3]);
        foreach (var (_, value) in kept)
        {
            harness.Inputs.Publish("owned", Encoding.UTF8.GetBytes(value), double.NaN, partition: 4);
        }

        Assert.Equal(kept.Count - 8, harness.Feed.IngestDropped);
        await harness.DrainAsync(1 + 8);

        Assert.False(harness.Feed.TryGet("revoked", out _), "the revoked partition's stream is still listed");
        Assert.True(harness.Feed.TryGet("owned", out var owned));
        Assert.Equal(4, owned.Partition);
    }

    [Fact]
    public async Task Publish_FeedFallsBehindOnLargeRecords_KeepsTheWaitingBytesWithinTheirBoundAndCountsTheRest()
    {
        // A model with 40 observed components: each filtered record is several kB, so 1 MiB of them is far fewer than
        // the 65,536 records the queue takes by count.
        const long bound = 1L << 20;
        using var harness = new FeedHarness(new DashboardSettings { IngestQueueBytes = bound }, model: WideModel);
        var input = Enumerable.Range(0, 400).Select(t => ("wide", WideReading(t))).ToList();
        var outputs = harness.Publish(input);
        var sizes = input.Select(r => Encoding.UTF8.GetByteCount(r.Item2)).Concat(outputs.Select(o => Encoding.UTF8.GetByteCount(o.Json))).ToList();
        Assert.True(sizes.Sum() > 3 * bound, $"the records should be several times the bound: {sizes.Sum()} bytes");

        Assert.InRange(harness.Feed.QueuedBytes, bound - sizes.Max(), bound);
        Assert.True(harness.Feed.IngestDropped > 0);
        var kept = harness.Published - harness.Feed.IngestDropped;
        await harness.DrainAsync(kept);

        Assert.Equal(0, harness.Feed.QueuedBytes);
        Assert.Equal(0, harness.Feed.Failed);
        Assert.True(harness.Feed.TryGet("wide", out _));
    }

    [Fact]
    public async Task Apply_ARecordWhoseReadingFails_DropsThatStreamsViewCountsItAndTheFeedGoesOn()
    {
        // The feed's clock fails once, inside the reading of the 30th record: a stand-in for any defect of the
        // dashboard. An exception out of the feed's background service would stop the worker's host.
        var clock = new FailingClock(failAt: 30);
        using var harness = new FeedHarness(new DashboardSettings(), time: clock);
        var input = TestInput.Generate(streams: 2, perStream: 40, seed: 5);

        await harness.RunAsync(input);

        Assert.Equal(1, harness.Feed.Failed);
        Assert.Equal(0, harness.Feed.Unreadable);
        Assert.Equal(harness.Published, harness.Feed.Received);
        foreach (var stream in input.Select(r => r.Stream).Distinct())
        {
            var observations = harness.History(stream).GetProperty("observations");
            Assert.Equal(Time(input.Last(r => r.Stream == stream).Value), observations.EnumerateArray().Last().GetProperty("t").GetDouble());
        }
    }

    [Fact]
    public async Task Subscribe_ClientNeverReads_KeepsItsNewestUpdatesAndCountsTheRest()
    {
        using var harness = new FeedHarness(new DashboardSettings { ClientBuffer = 16 });
        using var slow = harness.Feed.Subscribe("sensor-0000")!;
        using var other = harness.Feed.Subscribe("sensor-0001")!;
        var input = TestInput.Generate(streams: 2, perStream: 40, seed: 3);
        var outputs = await harness.RunAsync(input);

        var updates = input.Count(r => r.Stream == "sensor-0000") + outputs.Count(o => o.Stream == "sensor-0000");
        Assert.Equal(updates - 16, slow.Dropped);
        var kept = new List<JsonElement>();
        while (slow.Reader.TryRead(out var update))
        {
            kept.Add(JsonDocument.Parse(update).RootElement);
        }

        Assert.Equal(16, kept.Count);

        // The newest survive: the loop taps a reading after its outputs, so the last kept update is the stream's
        // last reading, just after the last forecast (horizon 2).
        var lastReading = input.Last(r => r.Stream == "sensor-0000").Value;
        Assert.Equal("o", kept[^1].GetProperty("k").GetString());
        Assert.Equal(Time(lastReading), kept[^1].GetProperty("t").GetDouble());
        Assert.Equal("c", kept[^2].GetProperty("k").GetString());
        Assert.Equal(2, kept[^2].GetProperty("h").GetInt32());
        Assert.Equal(2, harness.Feed.Clients);
    }

    [Fact]
    public async Task Apply_MoreStreamsThanTracked_ForgetsTheLeastRecentlyUpdated()
    {
        using var harness = new FeedHarness(new DashboardSettings { MaxStreams = 3 });
        var input = TestInput.Generate(streams: 5, perStream: 4, seed: 4);

        // Streams 0..4 round-robin: after the last round, 2, 3 and 4 were updated most recently.
        var outputs = await harness.RunAsync(input);
        Assert.Equal(3, harness.Feed.StreamCount);
        Assert.True(harness.Feed.Evicted >= 2);
        Assert.Equal(["sensor-0002", "sensor-0003", "sensor-0004"], harness.Feed.Streams.Select(v => v.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Apply_LongStream_KeepsOnlyTheNewestHistory()
    {
        using var harness = new FeedHarness(new DashboardSettings { History = 25 });
        var input = TestInput.Generate(streams: 1, perStream: 100, seed: 6);
        var outputs = await harness.RunAsync(input);
        var history = harness.History("sensor-0000");
        var observations = history.GetProperty("observations").EnumerateArray().Select(o => o.GetProperty("t").GetDouble()).ToList();
        Assert.Equal(input.TakeLast(25).Select(r => Time(r.Value)), observations);
        Assert.Equal(25, history.GetProperty("filtered").GetArrayLength());
        Assert.Equal(100, history.GetProperty("summary").GetProperty("steps").GetInt32());
    }

    [Fact]
    public async Task Subscribe_ManyIdsTheWorkerDoesNotOwn_RealStreamsStayAndNewOnesAreTracked()
    {
        using var harness = new FeedHarness(new DashboardSettings { MaxStreams = 1000 });
        var first = TestInput.Generate(streams: 5, perStream: 4, seed: 4);
        var outputs = await harness.RunAsync(first);

        // Pages (or a script) asking for 1,100 ids that no record ever carried.
        var phantoms = Enumerable.Range(0, 1100).Select(i => harness.Feed.Subscribe($"phantom-{i:D4}")).ToList();

        Assert.Equal(5, harness.Feed.StreamCount);
        Assert.Equal(0, harness.Feed.Evicted);
        Assert.All(first.Select(r => r.Stream).Distinct(), id => Assert.True(harness.Feed.TryGet(id, out _), $"{id} should still be tracked"));

        // Streams that appear afterwards are tracked as well.
        var later = TestInput.Generate(streams: 8, perStream: 2, seed: 9).Where(r => string.CompareOrdinal(r.Stream, "sensor-0005") >= 0).ToList();
        await harness.RunAsync(later);
        Assert.Equal(8, harness.Feed.StreamCount);
        Assert.All(later.Select(r => r.Stream).Distinct(), id => Assert.True(harness.Feed.TryGet(id, out _), $"{id} should be tracked"));
        foreach (var p in phantoms)
        {
            p?.Dispose();
        }

        Assert.Equal(0, harness.Feed.Clients);
    }

    [Fact]
    public async Task Subscribe_IdNotSeenYet_WaitsWithoutAnEntryWithinItsBoundAndGetsTheStreamOnceItAppears()
    {
        using var harness = new FeedHarness(new DashboardSettings { MaxWaitingPages = 3 });
        using var early = harness.Feed.Subscribe("sensor-0001");
        var waiting = Enumerable.Range(0, 2).Select(i => harness.Feed.Subscribe($"phantom-{i}")).ToList();

        // Beyond the bound a page is refused (and told to retry) instead of allocating anything.
        Assert.Null(harness.Feed.Subscribe("phantom-2"));
        Assert.NotNull(early);
        Assert.All(waiting, Assert.NotNull);
        Assert.Equal(0, harness.Feed.StreamCount);
        Assert.Equal(3, harness.Feed.Clients);

        var input = TestInput.Generate(streams: 2, perStream: 5, seed: 8);
        var outputs = await harness.RunAsync(input);

        // The waiting page received every update of its stream from the first record on.
        var updates = 0;
        while (early!.Reader.TryRead(out _))
        {
            updates++;
        }

        Assert.Equal(input.Count(r => r.Stream == "sensor-0001") + outputs.Count(o => o.Stream == "sensor-0001"), updates);
        Assert.Equal(2, harness.Feed.StreamCount);

        // A page that goes away frees its place.
        waiting[0]!.Dispose();
        using var again = harness.Feed.Subscribe("phantom-3");
        Assert.NotNull(again);
        foreach (var w in waiting.Skip(1))
        {
            w!.Dispose();
        }
    }

    [Fact]
    public async Task Worker_RecordsItDeadLettersOrDropsAsDuplicates_NeverReachTheDashboard()
    {
        using var bed = new KafkaTestBed("dashboard-rejected");
        using var harness = new FeedHarness(new DashboardSettings(), lag: 0, horizon: 0);
        var good = TestInput.Generate(streams: 4, perStream: 5, seed: 5);
        var last = good.Last(r => r.Stream == "sensor-0000");
        static string Reading(string time, string values) => $"{{\"time\":\"{time}\",\"values\":[{values}]}}";

        // Each is dead-lettered, or dropped as an exact duplicate, by the worker. They all used to be drawn: the records
        // under fresh ids became dashboard streams the worker does not have (1,024 values made one with three 720-row
        // rings of up to 2,049 doubles, 30 MB; twenty such records exhausted a 256 MB heap, and the dashboard's failure
        // stopped the worker), and the 2-value record reset sensor-0000's chart to two components.
        var rejected = new List<(string Stream, string Value)>
        {
            ("phantom-wide", Reading("2026-01-01T00:04:00Z", string.Join(",", Enumerable.Repeat("0", 1024)))),
            ("phantom-2", Reading("2026-01-01T00:04:00Z", "1,2")),
            ("sensor-0000", Reading("2026-01-01T00:05:00Z", "1,2")),
            ("sensor-0000", Reading("2025-12-31T23:00:00Z", "1")),
            ("sensor-0000", Reading("2100-01-01T00:00:00Z", "1")),
            last,
        };

        long published = 0;
        bed.Produce([.. good, .. rejected]);
        using (var w = bed.StartInProcess("w1", o => new KafkaStreamWorker(
            o,
            harness.Router,
            new ProcessorOptions { MaxTimeSkew = TimeSpan.FromHours(1) },
            new ProcessingMetrics(),
            new KafkaTransportMetrics(),
            TestLog.For<KafkaStreamWorker>("w1"),
            tap: (kind, stream, record) =>
            {
                Interlocked.Increment(ref published);
                harness.Outputs.Publish(kind, stream, record);
            },
            inputTap: (stream, value, timestamp, partition) =>
            {
                Interlocked.Increment(ref published);
                harness.Inputs.Publish(stream, value, timestamp, partition);
            })))
        {
            bed.WaitForFiltered(good.Count, TimeSpan.FromSeconds(90));
            WaitUntil(() => w.Worker.Status is { Lag: 0, DeadLetters: 5, Duplicates: 1 }, "every record to be committed");
        }

        await harness.DrainAsync(Interlocked.Read(ref published));
        Assert.Equal(["sensor-0000", "sensor-0001", "sensor-0002", "sensor-0003"], harness.Feed.Streams.Select(v => v.Id).Order(StringComparer.Ordinal));
        var history = harness.History("sensor-0000");
        Assert.Equal(1, history.GetProperty("components").GetInt32());
        Assert.Equal(
            good.Where(r => r.Stream == "sensor-0000").Select(r => Time(r.Value)),
            history.GetProperty("observations").EnumerateArray().Select(o => o.GetProperty("t").GetDouble()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Worker_RestartedOnStreamsTheChangelogHolds_ListsEveryOwnedStreamWithItsCountsAndDropsThoseOfRevokedPartitions(bool disk)
    {
        using var directory = new Scratch("streamseq-dashboard-restore-");
        using var bed = new KafkaTestBed("dashboard-restore");
        var store = disk ? new StateStoreOptions { Kind = StateStoreKind.RocksDb, Directory = directory.Directory } : null;
        using var harness = new FeedHarness(new DashboardSettings(), lag: 0, horizon: 0);
        const int streams = 12;
        var first = TestInput.Generate(streams: streams, perStream: 30, seed: 9);
        var expected = bed.Expected(first, harness.Router);
        var filtered = expected[bed.Options.FilteredTopic];
        var anomalies = expected[bed.Options.AnomalyTopic];
        Assert.True(anomalies.Count > 0, "the input should make some anomalies");

        KafkaStreamWorker Create(KafkaTransportOptions o, bool dashboard) => new(
            o,
            harness.Router,
            new ProcessorOptions(),
            new ProcessingMetrics(),
            new KafkaTransportMetrics(),
            TestLog.For<KafkaStreamWorker>(o.InstanceId),
            tap: dashboard ? harness.Outputs.Publish : null,
            inputTap: dashboard ? harness.Inputs.Publish : null,
            storeOptions: store,
            ownership: dashboard ? harness.Ownership : null);

        // A first run, without the dashboard, leaves every stream's state in the changelog (and in the local disk store).
        bed.Produce(first);
        using (bed.StartInProcess("w1", o => Create(o, dashboard: false)))
        {
            bed.WaitForFiltered(first.Count, TimeSpan.FromSeconds(90));
        }

        var partitionOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var p = 0; p < KafkaTestBed.InputPartitions; p++)
        {
            foreach (var m in bed.ReadPartition(bed.Options.InputTopic, p))
            {
                partitionOf[Encoding.UTF8.GetString(m.Key)] = p;
            }
        }

        JsonElement Summary(string stream)
        {
            Assert.True(harness.Feed.TryGet(stream, out var view), $"stream {stream} is not listed");
            return JsonDocument.Parse(DashboardJson.Write(view.WriteSummary)).RootElement;
        }

        await harness.Feed.StartAsync(CancellationToken.None);
        try
        {
            // The same instance again, on the same volume: with the disk store the states come from its local store.
            using var w2 = bed.StartInProcess("w1", o => Create(o, dashboard: true));

            // Restored, before any new reading: every stream is listed with the steps, last time and anomalies its state
            // holds. It used to list none until each stream's next reading, and to count from 0 again.
            WaitUntil(() => w2.Worker.Status.Ready && harness.Feed.StreamCount == streams, "every restored stream to be listed");
            foreach (var (stream, records) in filtered)
            {
                var summary = Summary(stream);
                Assert.Equal("level", summary.GetProperty("model").GetString());
                Assert.Equal(records.Count, summary.GetProperty("steps").GetInt64());
                Assert.Equal(anomalies.GetValueOrDefault(stream)?.Count ?? 0, summary.GetProperty("anomalies").GetInt64());
                Assert.Equal(Time(first.Last(r => r.Stream == stream).Value), summary.GetProperty("t").GetDouble());
            }

            // The next readings count on from the restored steps.
            var next = TestInput.Generate(streams: streams, perStream: 31, seed: 9)[first.Count..];
            bed.Produce(next);
            bed.WaitForFiltered(first.Count + next.Count, TimeSpan.FromSeconds(90));
            WaitUntil(() => filtered.All(f => harness.Feed.TryGet(f.Key, out var v) && Summary(f.Key).GetProperty("steps").GetInt64() == f.Value.Count + 1), "the new readings to be counted on");

            // A second member takes some partitions: the streams of those leave the first one's list.
            using var w3 = bed.StartInProcess(harness.Router, "w3");
            WaitUntil(() => w3.Worker.Status.Ready && w3.Worker.Status.Partitions.Count > 0 && w2.Worker.Status.Ready && w2.Worker.Status.Partitions.Count + w3.Worker.Status.Partitions.Count == KafkaTestBed.InputPartitions, "the partitions to be shared");
            var kept = w2.Worker.Status.Partitions;
            var owned = partitionOf.Where(p => kept.Contains(p.Value)).Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
            WaitUntil(() => harness.Feed.Streams.Select(v => v.Id).Order(StringComparer.Ordinal).SequenceEqual(owned), $"the list to hold only the streams of partitions {string.Join(",", kept)}");
            Assert.True(owned.Count < streams, "some streams should have moved");
        }
        finally
        {
            await harness.Feed.StopAsync(CancellationToken.None);
        }
    }

    [Theory]
    [InlineData(null, true, true)]
    [InlineData(null, false, false)]
    [InlineData(false, true, false)]
    [InlineData(true, false, true)]
    public void IsEnabled_DefaultFollowsTheBroker(bool? configured, bool embedded, bool expected) =>
        Assert.Equal(expected, new DashboardSettings { Enabled = configured }.IsEnabled(embedded));

    /// <summary>A local level observed by 40 sensors at once: filtered records of tens of kB (a 40×40 covariance) from a small state.</summary>
    private static readonly string WideModel = $$"""
        {"name": "wide", "kind": "linear-gaussian",
         "transition": [[1]], "transitionNoise": [[0.01]],
         "observation": [{{string.Join(", ", Enumerable.Repeat("[1]", 40))}}],
         "observationNoise": [{{string.Join(", ", Enumerable.Range(0, 40).Select(i => $"[{string.Join(", ", Enumerable.Range(0, 40).Select(j => i == j ? "0.5" : "0"))}]"))}}],
         "initialMean": [0], "initialCovariance": [[100]]}
        """;

    private static string WideReading(int t) =>
        $"{{\"time\":{(t + 1) * 60_000},\"values\":[{string.Join(',', Enumerable.Range(0, 40).Select(i => (20 + (0.01 * i) + (0.1 * t)).ToString(System.Globalization.CultureInfo.InvariantCulture)))}]}}";

    /// <summary>The system clock, except that its <c>failAt</c>-th reading throws.</summary>
    private sealed class FailingClock(int failAt) : TimeProvider
    {
        private int calls;

        public override long GetTimestamp() =>
            Interlocked.Increment(ref calls) == failAt ? throw new InvalidOperationException("clock failure") : base.GetTimestamp();
    }
}
