using System.Text;
using System.Text.Json.Nodes;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.State;
using StreamSeq.Worker.Tests.Support;
using static StreamSeq.Worker.Tests.Integration.ExactlyOnceTests;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary><c>MaxLiveStreams</c> bounds the live streams of a partition without ever losing an update.</summary>
public sealed class EvictionTests
{
    [Fact]
    public async Task Run_BacklogOfTenTimesMaxLiveStreamsKeysInOnePartition_NoUpdateLostAndLiveStreamsCountsLiveOnly()
    {
        using var bed = new KafkaTestBed("eviction");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 1, horizon: 1);
        var input = TestInput.Generate(streams: 200, perStream: 2, seed: 5);
        bed.Produce(input, partition: 0);
        long live, evicted;
        StreamSnapshot[] snapshots;
        using (var w = bed.StartInProcess(router, "w1", processing: new ProcessorOptions { MaxLiveStreams = 20 }))
        {
            bed.WaitForFiltered(input.Count, TimeSpan.FromSeconds(90));
            WaitUntil(() => w.Worker.Status.LiveStreams + w.Worker.Status.EvictedStreams == 200, "the status to count every stream");
            live = w.Worker.Status.LiveStreams;
            evicted = w.Worker.Status.EvictedStreams;

            // Evicted streams are still owned: a query answers from their serialised state.
            var answers = await Task.WhenAll(input.Select(r => r.Stream).Distinct().Select(id => w.Worker.QueryAsync(id, Timeout.InfiniteTimeSpan)));
            Assert.Equal(200, answers.Length);
            Assert.All(answers, a => Assert.Equal(2, Assert.IsType<StreamSnapshot>(a.Snapshot).Steps));
            snapshots = [.. answers.Select(a => a.Snapshot!)];
        }

        // What each stream expects to read next, evicted or live, is the horizon-1 forecast it emitted after its last
        // reading: the same time, and the same observation mean and covariance to the bit.
        var forecasts = bed.ReadCommitted(bed.Options.ForecastTopic);
        Assert.All(snapshots, snapshot =>
        {
            var record = JsonNode.Parse(forecasts[snapshot.Stream][^1])!;
            Assert.Equal(1, record["horizon"]!.GetValue<int>());
            var next = Assert.IsType<StreamPrediction>(snapshot.Next);
            Assert.Equal(record["time"]!.GetValue<string>(), next.Time!.GetValue<string>());
            Assert.Equal(record["observation"]!["mean"]!.AsArray().Select(v => v!.GetValue<double>()), next.Mean);
            Assert.Equal(record["observation"]!["cov"]!.AsArray().SelectMany(row => row!.AsArray()).Select(v => v!.GetValue<double>()), next.Cov.SelectMany(row => row));
        });

        // Every second reading continued from its stream's first, as an uninterrupted run without a limit does.
        OutputAssert.ExactlyOnce(bed, bed.Expected(input, router));

        // Every stream's latest committed state reached the changelog, two readings in.
        var latest = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var m in bed.ReadCommittedMessages(bed.Options.ChangelogTopic))
        {
            if (m.Key is { Length: > 0 } key && !ChangelogKeys.IsOffsetKey(key) && m.Value is { } value)
            {
                latest[Encoding.UTF8.GetString(key)] = value;
            }
        }

        Assert.Equal(200, latest.Count);
        Assert.All(latest, s => Assert.Equal(2, StreamStateCodec.Read(s.Key, s.Value, router, out _)!.Steps));
        Assert.InRange(live, 1, 20);
        Assert.Equal(200 - live, evicted);
    }
}
