using System.Globalization;
using System.Text.RegularExpressions;
using StreamSeq.Kafka.Stores;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Telemetry;
using StreamSeq.Worker.Tests.Support;
using static StreamSeq.Worker.Tests.Integration.ExactlyOnceTests;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>
/// The model of the streams changes between two runs on one changelog (a new spec under the same model name: another
/// hidden state, another reading dimension, another lag). Every restored state is another model's: each stream starts
/// again from the new model's prior, none is lost, no output is doubled, and no record is dead-lettered.
/// </summary>
public sealed partial class ModelChangeTests
{
    private const int Streams = 8;

    /// <summary>The test model with a slope: a hidden state of two values instead of one.</summary>
    internal static readonly string Trend = TestInput.Model.Replace(
        "\"components\":[{\"type\":\"local-level\",\"levelNoise\":0.1}]",
        "\"components\":[{\"type\":\"local-linear-trend\",\"levelNoise\":0.1,\"slopeNoise\":0.001}]",
        StringComparison.Ordinal).Replace("\"initialMean\":[0],\"initialCovariance\":[[100]]", "\"initialMean\":[0,0],\"initialCovariance\":[[100,0],[0,1]]", StringComparison.Ordinal);

    /// <summary>The test model for readings of two values (two independent levels).</summary>
    private static readonly string TwoValues = """
        {"name":"level","kind":"linear-gaussian","timeUnit":"PT1M",
         "transition":[[1,0],[0,1]],"transitionNoise":[[0.1,0],[0,0.1]],
         "observation":[[1,0],[0,1]],"observationNoise":[[0.4,0],[0,0.4]],
         "initialMean":[0,0],"initialCovariance":[[100,0],[0,100]],
         "anomalyRules":[{"name":"surprise","type":"chi-square","threshold":0.001,"clearThreshold":0.1}]}
        """;

    [Theory]
    [InlineData("trend", false)]
    [InlineData("trend", true)]
    [InlineData("dimension", false)]
    [InlineData("dimension", true)]
    [InlineData("lag", false)]
    [InlineData("lag", true)]
    public void Restart_ModelChangedUnderTheSameName_EveryStreamStartsFromTheNewPriorNothingLostOrDoubled(string change, bool disk)
    {
        using var scratch = new Scratch("streamseq-model-change-");
        using var bed = new KafkaTestBed($"model-change-{change}-{(disk ? "disk" : "memory")}");
        var before = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var after = change switch
        {
            "trend" => KafkaTestBed.Router(Trend, lag: 2, horizon: 1),
            "dimension" => KafkaTestBed.Router(TwoValues, lag: 2, horizon: 1),
            _ => KafkaTestBed.Router(TestInput.Model, lag: 3, horizon: 1),
        };

        var all = TestInput.Generate(Streams, perStream: 40, seed: 9);
        var first = all.Take(Streams * 20).ToList();
        var rest = all.Skip(Streams * 20).Select(r => change == "dimension" ? (r.Stream, Twice(r.Value)) : r).ToList();

        bed.Produce(first);
        using (Start(bed, before, "w1", disk, scratch.Directory))
        {
            bed.WaitForFiltered(first.Count, TimeSpan.FromSeconds(90));
        }

        var log = new HostileChangelogTests.ListLogger();
        using (var w = Start(bed, after, "w2", disk, scratch.Directory, log))
        {
            WaitUntil(() => w.Error is not null || (w.Worker.Status.Ready && w.Worker.Status.Partitions.Count == KafkaTestBed.InputPartitions), "the worker to restore every partition");
            Assert.Null(w.Error);
            bed.Produce(rest);
            bed.WaitForFiltered(all.Count, TimeSpan.FromSeconds(90));
            Assert.Null(w.Error);
        }

        // The first run's outputs, then those of streams whose first record is the first of the second run.
        var expected = bed.Expected(first, before);
        foreach (var (topic, streams) in bed.Expected(rest, after))
        {
            var into = expected.TryGetValue(topic, out var known) ? known : expected[topic] = [];
            foreach (var (stream, records) in streams)
            {
                (into.TryGetValue(stream, out var list) ? list : into[stream] = []).AddRange(records);
            }
        }

        OutputAssert.ExactlyOnce(bed, expected);
        Assert.Empty(bed.ReadMessages(bed.Options.DeadLetterTopic));
        if (!disk)
        {
            // The memory store reads every state at the restore and says why each goes.
            Assert.Equal(Streams, log.Lines.Count(l => l.Contains("model 'level' changed since the state was written", StringComparison.Ordinal)));
        }
    }

    /// <summary>
    /// A query of a stream whose state on disk is the earlier model's: the worker owns the stream, so it says that the
    /// stored state is not the configured model's and is replaced on the next record (the API's 409), rather than
    /// "not owned by this worker" (404), which sent the user to look for another worker. The next record replaces it,
    /// and the query then answers with the new model's state.
    /// </summary>
    [Fact]
    public async Task Query_StoredStateOfAnEarlierModel_IsSupersededUntilTheNextRecordReplacesIt()
    {
        using var scratch = new Scratch("streamseq-model-change-query-");
        using var bed = new KafkaTestBed("model-change-query");
        var before = KafkaTestBed.Router(TestInput.Model, lag: 2, horizon: 1);
        var after = KafkaTestBed.Router(Trend, lag: 2, horizon: 1);
        var all = TestInput.Generate(Streams, perStream: 21, seed: 9);
        var first = all.Take(Streams * 20).ToList();
        bed.Produce(first);
        using (Start(bed, before, "w1", disk: true, scratch.Directory))
        {
            bed.WaitForFiltered(first.Count, TimeSpan.FromSeconds(90));
        }

        using var w = Start(bed, after, "w2", disk: true, scratch.Directory);
        WaitUntil(() => w.Error is not null || (w.Worker.Status.Ready && w.Worker.Status.Partitions.Count == KafkaTestBed.InputPartitions), "the worker to restore every partition");
        Assert.Null(w.Error);
        var stream = first[0].Stream;
        var answer = await w.Worker.QueryAsync(stream, TimeSpan.FromSeconds(30));
        Assert.Equal(StreamQueryOutcome.Superseded, answer.Outcome);
        Assert.Equal("model 'level' changed since the state was written", answer.Problem);
        Assert.Equal(
            $"stream '{stream}' is owned by this worker, but its stored state was written by an earlier model (model 'level' changed since the state was written); it has no state of the current model yet, and its next record replaces the stored state with one started from the model's prior.",
            StreamSeq.Worker.Hosting.WorkerApi.Superseded(stream, answer.Problem));

        bed.Produce([all.Skip(Streams * 20).First(r => r.Stream == stream)]);
        WaitUntil(() => w.Error is not null || w.Worker.Status.Processed >= 1, "the stream's next record");
        Assert.Null(w.Error);
        answer = await w.Worker.QueryAsync(stream, TimeSpan.FromSeconds(30));
        Assert.Equal(StreamQueryOutcome.Answered, answer.Outcome);
        Assert.Equal(1, answer.Snapshot!.Steps);
        Assert.Equal(2, answer.Snapshot.Mean.Length);
    }

    private static string Twice(string value) => Values().Replace(value, m => $"\"values\":[{m.Groups[1].Value},{m.Groups[1].Value}]");

    [GeneratedRegex("\"values\":\\[([^\\]]*)\\]")]
    private static partial Regex Values();

    private static KafkaTestBed.WorkerHandle Start(KafkaTestBed bed, ModelRouter router, string instance, bool disk, string directory, Microsoft.Extensions.Logging.ILogger<KafkaStreamWorker>? log = null) =>
        bed.StartWithStore(router, instance, disk ? directory : null, log);
}
