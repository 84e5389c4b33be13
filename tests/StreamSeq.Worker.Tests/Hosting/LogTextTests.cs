using System.Text.Json.Nodes;
using StreamSeq.Worker.Tests.Support;
using static StreamSeq.Worker.Tests.Integration.ExactlyOnceTests;

namespace StreamSeq.Worker.Tests.Hosting;

/// <summary>
/// Text from Kafka records reaches the worker's console log escaped: a producer that puts escape sequences, line ends or
/// bidirectional controls in a stream id cannot drive the operator's terminal or forge a log line.
/// </summary>
public sealed class LogTextTests
{
    /// <summary>A window-title escape sequence, a carriage return and a newline each starting a forged line, and a right-to-left override.</summary>
    private const string Hostile = "sensor-\u001b]0;x\u0007\rinfo: forged\n\u202Eevil";

    [Fact]
    public void Stop_AfterProcessing_RevokedPartitionsInSingleBracketsAndTheLastTransactionSaidCommitted()
    {
        using var scratch = new Scratch("streamseq-log-stop-");
        using var bed = new KafkaTestBed("log-stop");
        var settings = WorkerProcess.Settings(bed, "log-stop-1", commitInterval: "00:00:00.200");
        bed.Produce([.. Enumerable.Range(0, 5).Select(t => ("sensor-1", $"{{\"time\":\"2026-01-01T00:0{t}:00Z\",\"values\":[{t}]}}"))]);
        using var worker = WorkerProcess.Start(settings, scratch.File("stop"));
        bed.WaitForFiltered(5, TimeSpan.FromSeconds(90), worker.Logs);

        Assert.Equal(0, worker.Stop(TimeSpan.FromSeconds(60)));

        var logs = worker.Logs();
        var revoked = Assert.Single(logs.Split('\n'), l => l.Contains("Partitions revoked:", StringComparison.Ordinal));
        Assert.DoesNotContain("[[", revoked, StringComparison.Ordinal);
        Assert.Matches(@"Partitions revoked: streamseq\.readings \[[0-9]\]( @[0-9]+)?(, streamseq\.readings \[[0-9]\]( @[0-9]+)?)*\s*$", revoked);
        Assert.Matches(@"Worker stopped after 5 records and [1-9][0-9]* committed transactions; the last one committed, none is left open", logs);
    }

    /// <summary>
    /// The restore lines count in words: one stream is "1 stream", never "1 streams" (as they said before), with the
    /// memory store and the disk store alike.
    /// </summary>
    [Theory]
    [InlineData("memory")]
    [InlineData("rocksdb")]
    public void Restart_OneStream_RestoreLinesSayOneStreamInTheSingular(string store)
    {
        using var scratch = new Scratch("streamseq-log-count-");
        using var bed = new KafkaTestBed($"log-count-{store}");
        var settings = WorkerProcess.Settings(bed, "log-count-1", commitInterval: "00:00:00.200");
        settings["Processing"]!["StateStore"] = store;
        if (store == "rocksdb")
        {
            settings["Processing"]!["StateDirectory"] = scratch.File("state");
        }

        bed.Produce([.. Enumerable.Range(0, 5).Select(t => ("sensor-1", $"{{\"time\":\"2026-01-01T00:0{t}:00Z\",\"values\":[{t}]}}"))]);
        using (var first = WorkerProcess.Start(settings, scratch.File("first")))
        {
            bed.WaitForFiltered(5, TimeSpan.FromSeconds(90), first.Logs);
            Assert.Equal(0, first.Stop(TimeSpan.FromSeconds(60)));
        }

        using var second = WorkerProcess.Start(settings, scratch.File("second"));
        Assert.True(second.WaitReady(TimeSpan.FromSeconds(90)), second.Logs());
        var logs = second.Logs();
        second.Stop(TimeSpan.FromSeconds(60));

        var restored = logs.Split('\n').Where(l => l.Contains("Restored ", StringComparison.Ordinal)).ToList();
        var partitionLine = store == "memory" ? @"Restored partition \d: 1 stream from " : @"Restored partition \d with its local disk store: 1 stream, ";
        var shown = string.Join("\n", restored);
        Assert.True(restored.Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, partitionLine)) == 1, shown);
        Assert.True(restored.Count(l => l.Contains(": 0 streams", StringComparison.Ordinal)) == KafkaTestBed.InputPartitions - 1, shown);
        Assert.True(restored.Count(l => l.Contains($"Restored {KafkaTestBed.InputPartitions} partitions (1 stream", StringComparison.Ordinal)) == 1, shown);
        Assert.False(restored.Any(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"\b1 (streams|partitions|states|records|changelog records)\b")), shown);
    }

    [Fact]
    public void Restart_ModelChangedUnderAStreamIdWithControlCharacters_LogNamesTheStreamEscapedOnOneLine()
    {
        using var scratch = new Scratch("streamseq-log-text-");
        using var bed = new KafkaTestBed("log-text");
        var settings = WorkerProcess.Settings(bed, "log-text-1", commitInterval: "00:00:00.200");
        var input = Enumerable.Range(0, 5)
            .Select(t => (Hostile, $"{{\"time\":\"2026-01-01T00:0{t}:00Z\",\"values\":[{t}]}}"))
            .ToList();
        bed.Produce(input);
        using (var first = WorkerProcess.Start(settings, scratch.File("first")))
        {
            bed.WaitForFiltered(1, TimeSpan.FromSeconds(90), first.Logs);
            Assert.Equal(0, first.Stop(TimeSpan.FromSeconds(60)));
        }

        // The model changed while the worker was down: the restore discards the stream's state and says which stream.
        settings["Models"] = new JsonArray(JsonNode.Parse(TestInput.Model.Replace("\"levelNoise\":0.1", "\"levelNoise\":0.2", StringComparison.Ordinal)));
        using var second = WorkerProcess.Start(settings, scratch.File("second"));
        WaitUntil(() => second.Logs().Contains("Discarded restored state of stream", StringComparison.Ordinal), "the restore to log the discarded state", seconds: 90);
        var logs = second.Logs();
        second.Stop(TimeSpan.FromSeconds(60));

        Assert.False(logs.AsSpan().IndexOfAny('\u001b', '\u0007', '\u202E') >= 0, $"a control character reached the log raw:\n{logs.ReplaceLineEndings("\u23CE\n")}");
        var line = Assert.Single(logs.Split('\n'), l => l.Contains("forged", StringComparison.Ordinal));
        Assert.Contains("Discarded restored state of stream sensor-\\x1B]0;x\\x07\\x0Dinfo: forged\\x0A\\u202Eevil: model 'level' changed", line, StringComparison.Ordinal);
    }
}
