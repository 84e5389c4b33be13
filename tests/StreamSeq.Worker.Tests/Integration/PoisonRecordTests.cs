using System.Globalization;
using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Transport;
using StreamSeq.Worker.Tests.Support;
using static StreamSeq.Worker.Tests.Integration.ExactlyOnceTests;

namespace StreamSeq.Worker.Tests.Integration;

/// <summary>Records that cannot become outputs go to the dead letters, in a form that fits, and the rest flows on.</summary>
public sealed class PoisonRecordTests
{
    /// <summary>librdkafka's default <c>message.max.bytes</c>, the worker producer's limit.</summary>
    private const int ProducerLimit = 1_000_000;

    [Fact]
    public void Run_RecordsWhoseDeadLettersOrOutputsWouldExceedTheMessageLimit_DeadLetteredTruncatedAndEveryGoodRecordCommitted()
    {
        using var bed = new KafkaTestBed("oversized");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 1, horizon: 1);
        var good = TestInput.Generate(streams: 20, perStream: 30, seed: 9);
        var half = good.Count / 2;
        var unparseable = Encoding.UTF8.GetBytes("{\"time\":\"2026-01-01T00:10:00Z\",\"values\":[1" + new string(' ', 1_040_000 - 47) + "]");
        // Over MaxRecordBytes and the producer's limit, like the 10 MB value of the field report; the embedded broker
        // drops a record larger than its 5 MiB partition retention as soon as it is written, so 4 MB is the most it keeps.
        var huge = new byte[4_000_000];
        Array.Fill(huge, (byte)'7');
        var longKey = "sensor-long-" + new string('k', 600_000 - 12);
        var valid = Encoding.UTF8.GetBytes("{\"time\":\"2026-01-01T00:10:00Z\",\"values\":[21.5]}");

        bed.Produce(good[..half]);
        using (var w = bed.StartInProcess(router, "w1"))
        {
            bed.WaitForFiltered(half, TimeSpan.FromSeconds(90));

            // One per partition: the embedded broker keeps about 5 MiB per partition.
            bed.ProduceRaw([(Encoding.UTF8.GetBytes("sensor-0004"), huge, 2), (Encoding.UTF8.GetBytes("sensor-0003"), unparseable, 0), (Encoding.UTF8.GetBytes(longKey), valid, 1)]);
            bed.Produce(good[half..]);
            bed.WaitForFiltered(good.Count, TimeSpan.FromSeconds(90));
            WaitUntil(() => w.Worker.Status.Lag == 0, "the worker to commit everything");
        }

        OutputAssert.ExactlyOnce(bed, bed.Expected(good, router));
        var letters = bed.ReadCommittedMessages(bed.Options.DeadLetterTopic);
        Assert.Equal(3, letters.Count);
        Assert.All(letters, l => Assert.True(WireSize(l) <= ProducerLimit, $"a dead letter of {WireSize(l)} bytes exceeds the producer limit"));

        var tooLarge = Assert.Single(letters, l => Header(l, DeadLetterHeaders.Kind) == "too-large");
        Assert.Equal("sensor-0004", Encoding.UTF8.GetString(tooLarge.Key));
        Assert.Equal(huge.AsSpan(0, tooLarge.Value.Length).ToArray(), tooLarge.Value);
        Assert.Equal(OriginalSizes(keyBytes: 11, valueBytes: huge.Length), Header(tooLarge, DeadLetterHeaders.Truncated));

        var bad = Assert.Single(letters, l => Header(l, DeadLetterHeaders.Kind) == "unparseable");
        Assert.Equal(unparseable.AsSpan(0, bad.Value.Length).ToArray(), bad.Value);
        Assert.True(WireSize(bad) > ProducerLimit - 100, $"the truncated payload keeps as much as fits ({WireSize(bad)} bytes)");
        Assert.Equal(OriginalSizes(keyBytes: 11, valueBytes: unparseable.Length), Header(bad, DeadLetterHeaders.Truncated));

        // The key is far over the stream-id limit but the dead letter fits whole: nothing is cut.
        var key = Assert.Single(letters, l => Header(l, DeadLetterHeaders.Kind) == "invalid-key");
        Assert.Equal(longKey, Encoding.UTF8.GetString(key.Key));
        Assert.Equal(valid, key.Value);
        Assert.False(key.Headers.TryGetLastBytes(DeadLetterHeaders.Truncated, out _));
    }

    [Fact]
    public void Run_OutputsOverTheMessageLimit_NotProducedTheirRecordDeadLetteredAndTheStateGoesOn()
    {
        using var bed = new KafkaTestBed("wide-outputs");

        // A 180-dimensional state with a dense transition: from the second reading on (the first has no transition yet),
        // its filtered record (two dense 180 x 180 covariances in JSON) is 1.4 MB, while its changelog state (binary,
        // about 0.5 MB) fits.
        var wide = KafkaTestBed.Router(DenseModel("wide", 180), lag: 0, horizon: 0);
        var level = KafkaTestBed.Router(TestInput.Model, lag: 0, horizon: 0);
        var router = new StreamSeq.Processing.Models.ModelRouter(
            [.. level.Models.Values, .. wide.Models.Values],
            [new StreamSeq.Processing.Models.ModelRoute("wide", StreamPattern: "wide-*"), new StreamSeq.Processing.Models.ModelRoute("level", StreamPattern: "sensor-*")]);
        var good = TestInput.Generate(streams: 10, perStream: 6, seed: 6);
        var wideReadings = Enumerable.Range(0, 3).Select(t => ("wide-1", $"{{\"time\":\"2026-01-01T00:0{t}:00Z\",\"values\":[{t + 1}]}}")).ToList();
        bed.Produce([.. good[..30], .. wideReadings, .. good[30..]]);
        using (var w = bed.StartInProcess(router, "w1"))
        {
            bed.WaitForFiltered(good.Count, TimeSpan.FromSeconds(90));
            WaitUntil(() => w.Worker.Status.Lag == 0 && w.Worker.Status.DeadLetters >= 2, "every record to be committed");
        }

        // Every output that fits is there: all of the level streams', and the wide stream's first.
        var expected = bed.Expected([.. good, .. wideReadings], router);
        expected[bed.Options.FilteredTopic]["wide-1"].RemoveRange(1, 2);
        OutputAssert.ExactlyOnce(bed, expected);
        var letters = bed.ReadCommittedMessages(bed.Options.DeadLetterTopic);
        Assert.Equal(wideReadings[1..].Select(r => r.Item2), letters.Select(l => Encoding.UTF8.GetString(l.Value)));
        Assert.All(letters, l => Assert.Equal("output-too-large", Header(l, DeadLetterHeaders.Kind)));
        Assert.Contains("exceed the message size limit of 1000000 bytes", Header(letters[0], DeadLetterHeaders.Message), StringComparison.Ordinal);

        // The stream was stepped by each record: its committed state has seen all three.
        var state = bed.ReadPartition(bed.Options.ChangelogTopic, PartitionOf(letters[0]))
            .Last(m => m.Key is { } k && Encoding.UTF8.GetString(k) == "wide-1");
        Assert.Equal(3, StreamSeq.Processing.State.StreamStateCodec.Read("wide-1", state.Value, router, out _)!.Steps);
    }

    [Fact]
    public void Run_FortyThousandWrongDimensionRecordsUnderFreshKeys_CreateNoStreamState()
    {
        using var bed = new KafkaTestBed("rejected-leak");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 0, horizon: 0);
        var good = TestInput.Generate(streams: 10, perStream: 5, seed: 4);
        var bad = Enumerable.Range(0, 40_000).Select(i => ($"fresh-{i:D5}", "{\"time\":\"2026-01-01T00:00:00Z\",\"values\":[1,2]}")).ToList();
        bed.Produce(good[..20]);
        bed.Produce(bad);
        bed.Produce(good[20..]);
        using (var w = bed.StartInProcess(router, "w1"))
        {
            bed.WaitForFiltered(good.Count, TimeSpan.FromSeconds(120));
            WaitUntil(() => w.Worker.Status.Lag == 0 && w.Worker.Status.DeadLetters >= bad.Count, "every record to be committed");
            Assert.Equal(10, w.Worker.Status.LiveStreams);
            Assert.Equal(0, w.Worker.Status.EvictedStreams);
        }
    }

    [Fact]
    public void Run_KeysThatAreNotUtf8_DeadLetteredAsInvalidKeyAndNeverShareAStream()
    {
        using var bed = new KafkaTestBed("invalid-utf8");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 0, horizon: 0);
        var good = TestInput.Generate(streams: 5, perStream: 4, seed: 2);
        var prefix = Encoding.UTF8.GetBytes("temperature-");
        byte[][] keys =
        [
            [.. prefix, 0xff, 0xfe],
            [.. prefix, 0xfe, 0xff],
            [.. prefix, 0xe2, 0x82], // a three-byte sequence cut short
            [.. prefix, 0xc0, 0xaf], // an overlong '/'
            [.. prefix, 0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded as UTF-8
        ];
        var reading = Encoding.UTF8.GetBytes("{\"time\":\"2026-01-01T00:00:00Z\",\"values\":[20]}");
        bed.Produce(good);
        bed.ProduceRaw([.. keys.Select((k, i) => (k, reading, (int?)(i % KafkaTestBed.InputPartitions)))]);
        using (var w = bed.StartInProcess(router, "w1"))
        {
            bed.WaitForFiltered(good.Count, TimeSpan.FromSeconds(90));
            WaitUntil(() => w.Worker.Status.Lag == 0 && w.Worker.Status.DeadLetters >= keys.Length, "every record to be committed");
            Assert.Equal(5, w.Worker.Status.LiveStreams);
        }

        var letters = bed.ReadCommittedMessages(bed.Options.DeadLetterTopic);
        Assert.Equal(keys.Length, letters.Count);
        foreach (var key in keys)
        {
            var letter = Assert.Single(letters, l => l.Key.AsSpan().SequenceEqual(key));
            Assert.Equal("invalid-key", Header(letter, DeadLetterHeaders.Kind));
            Assert.Equal(reading, letter.Value);
        }

        Assert.DoesNotContain(bed.ReadCommitted(bed.Options.FilteredTopic).Keys, k => k.StartsWith("temperature-", StringComparison.Ordinal));
    }

    /// <summary>A linear-Gaussian model whose state covariance is dense after one step (every state couples to every other).</summary>
    private static string DenseModel(string name, int n)
    {
        string Matrix(int rows, Func<int, int, double> value) =>
            "[" + string.Join(",", Enumerable.Range(0, rows).Select(i => "[" + string.Join(",", Enumerable.Range(0, n).Select(j => value(i, j).ToString("R", CultureInfo.InvariantCulture))) + "]")) + "]";
        return $$"""
            {"name":"{{name}}","kind":"linear-gaussian","timeUnit":"PT1M",
             "transition":{{Matrix(n, (i, j) => i == j ? 0.9 : 0.0005)}},
             "transitionNoise":{{Matrix(n, (i, j) => i == j ? 0.01 : 0)}},
             "observation":{{Matrix(1, (_, j) => j == 0 ? 1 : 0)}},
             "observationNoise":[[0.4]],
             "initialMean":[{{string.Join(",", Enumerable.Repeat("0", n))}}],
             "initialCovariance":{{Matrix(n, (i, j) => i == j ? 1 : 0)}}}
            """;
    }

    private static int PartitionOf(Message<byte[], byte[]> deadLetter) =>
        int.Parse(Header(deadLetter, DeadLetterHeaders.SourcePartition), CultureInfo.InvariantCulture);

    private static string OriginalSizes(long keyBytes, long valueBytes) =>
        string.Create(CultureInfo.InvariantCulture, $"key={keyBytes};value={valueBytes}");

    private static string Header(Message<byte[], byte[]> m, string name) =>
        m.Headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : throw new KeyNotFoundException(name);

    /// <summary>
    /// The record's size as librdkafka checks it against <c>message.max.bytes</c>: at most 36 bytes of record overhead,
    /// key, value, and per header a zig-zag varint length before its name and before its value (Kafka's v2 record format).
    /// </summary>
    private static long WireSize(Message<byte[], byte[]> m) =>
        36 + (m.Key?.Length ?? 0) + (m.Value?.Length ?? 0) + m.Headers.Sum(h => Varint(h.Key.Length) + h.Key.Length + Varint(h.GetValueBytes().Length) + h.GetValueBytes().Length);

    private static int Varint(int length) => length < 64 ? 1 : length < 8192 ? 2 : 3;
}
