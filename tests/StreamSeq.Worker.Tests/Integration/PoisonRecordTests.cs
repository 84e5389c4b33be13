using System.Globalization;
using System.Text;
using Confluent.Kafka;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Processor;
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

    [Fact]
    public void Run_PoisonOfEveryKindBeforeAndAfterARestart_EachRecordDeadLetteredOnceWithItsReasonAndTheGoodStreamsUnharmed()
    {
        using var bed = new KafkaTestBed("poison-kinds");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 1, horizon: 1);
        var processing = new ProcessorOptions { MaxTimeSkew = TimeSpan.FromHours(1) };
        var good = TestInput.Generate(streams: 12, perStream: 30, seed: 3);
        var (first, second) = (good.Count / 3, 2 * good.Count / 3);
        static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
        static byte[] Reading(string fields) => Utf8("{" + fields + "}");
        const string T = "\"time\":\"2026-01-01T00:09:30Z\"";

        // Each is one bad record; the reason it must be dead-lettered with, and a part of the message naming the problem.
        var poison = new List<(KafkaTestBed.RawRecord Record, string Reason, string Says)>
        {
            (new(Utf8("sensor-0001"), null), "unparseable", "a Kafka tombstone has no value"),
            (new(Utf8("sensor-0001"), []), "unparseable", "record is empty"),
            (new(Utf8("sensor-0001"), Utf8("{")), "unparseable", "invalid JSON"),
            (new(null, Reading(T + ",\"values\":[1]"), 0), "missing-key", "record has no key"),
            (new([], Reading(T + ",\"values\":[1]"), 3), "missing-key", "record has no key"),
            // Before: processed under the 'stream' field, so in another partition than the stream's own, splitting its state.
            (new(null, Reading("\"stream\":\"sensor-0002\"," + T + ",\"values\":[1]"), 1), "missing-key", "does not replace it"),
            (new(Utf8("sensor-0002"), Reading("\"stream\":\"sensor-0003\"," + T + ",\"values\":[1]")), "key-mismatch", "field 'stream' (\"sensor-0003\") differs from the record's key (\"sensor-0002\")"),
            // Before: a state written under partition 2's offset-marker key, which its restore then read as a marker and failed on.
            (new(Utf8("marker-poison"), Reading("\"stream\":\"\\u0000offset\\u0000streamseq.readings\\u00002\"," + T + ",\"values\":[1]"), 2), "key-mismatch", "(\"\\u0000offset\\u0000streamseq.readings\\u00002\")"),
            // Before: invalid UTF-8 in a field the reader skipped was not noticed, and the record was processed.
            (new(Utf8("sensor-0004"), [.. Utf8("{" + T + ",\"values\":[1],\"note\":\"caf"), 0xe9, .. Utf8("\"}")]), "unparseable", "not valid UTF-8 (invalid sequence at byte 56)"),
            (new(Utf8("sensor-0004"), [0xff, 0xfe, 0x00]), "unparseable", "not valid UTF-8 (invalid sequence at byte 1)"),
            (new(Utf8("sensor-0004"), [.. Reading(T + ",\"values\":[1]"), 0]), "unparseable", "invalid JSON"),
            (new(Utf8("sensor-0004"), Utf8("{\"time\":\"2026-01-01T00:09:30Z\0\",\"values\":[1]}")), "unparseable", "invalid JSON"),
            (new(Utf8("sensor-0005"), Reading(T + ",\"values\":[1],\"x\":" + new string('[', 5000) + new string(']', 5000))), "unparseable", "maximum configured depth"),
            (new(Utf8("sensor-0005"), Reading(T + ",\"values\":[" + string.Join(",", Enumerable.Repeat("0", 530_000)) + "]")), "too-large", "above the limit of 1048576"),
            (new(Utf8("sensor-0005"), Reading(T + ",\"values\":[" + string.Join(",", Enumerable.Repeat("0", 2000)) + "]")), "too-large", "more than the limit of 1024 components"),
            (new(Utf8("sensor-0006"), Reading(T + ",\"values\":[1,2]")), "wrong-dimension", "has 2 values but model 'level' observes 1"),
            (new(Utf8("sensor-0006"), Reading(T + ",\"values\":[\"Infinity\"]")), "unparseable", "must be a finite number"),
            (new(Utf8("sensor-0006"), Reading(T + ",\"values\":[1e999]")), "unparseable", "not a finite number"),
            (new(Utf8("sensor-0007"), Reading("\"time\":\"NaN\",\"values\":[1]")), "unparseable", "not an ISO-8601 date-time"),
            (new(Utf8("sensor-0007"), Reading("\"time\":-1,\"values\":[1]")), "too-late", "time -1 (1969-12-31T23:59:59.999Z) is before the last processed time 2026-01-01T00:"),
            (new(Utf8("sensor-0007"), Reading("\"time\":1e300,\"values\":[1]")), "time-out-of-range", "outside the years 1 to 9999"),
            (new(Utf8("sensor-0007"), Reading("\"time\":\"0001-01-01T00:00:00Z\",\"values\":[1]")), "too-late", "is before the last processed time"),
            (new(Utf8("sensor-0007"), Reading("\"time\":\"9999-12-31T23:59:59Z\",\"values\":[1]")), "time-out-of-range", "9999"),
            (new(Utf8("sensor-0007"), Reading("\"time\":\"2100-01-01T00:00:00Z\",\"values\":[1]")), "too-far-ahead", "ahead of the later of"),
            (new(Utf8("sensor-0008"), Reading("\"time\":\"2026-01-01T00:00:30Z\",\"values\":[1]")), "too-late", "of stream \"sensor-0008\" (allowed lateness"),
            (new(Utf8("sensor-" + new string('x', 1_000_000)), Reading(T + ",\"values\":[1]"), 3), "invalid-key", "above the limit of 1024"),
        };

        // Odd but valid: processed as `streamseq run` processes them (a 1e308 reading is skipped by the filter).
        var routeHeader = new Headers { { "sensor-type", new byte[300_000] } };
        var junkHeader = new Headers { { "x-junk", new byte[500_000] } };
        var odd = new List<(KafkaTestBed.RawRecord Record, string Stream, string Value)>
        {
            (new(Utf8("sensor-0009"), null), "sensor-0009", "{" + T + ",\"values\":[1e308]}"),
            (new(Utf8("sensor-0011"), null), "sensor-0011", "{\"stream\":\"sensor-0011\"," + T + ",\"values\":[1]}"),
            (new(Utf8("ctl-\u0001\u001f\n\t\"\\"), null), "ctl-\u0001\u001f\n\t\"\\", "{" + T + ",\"values\":[1]}"),
            (new(Utf8("headers-1"), null, null, junkHeader), "headers-1", "{" + T + ",\"values\":[2]}"),
            (new(Utf8("headers-2"), null, null, routeHeader), "headers-2", "{" + T + ",\"values\":[3]}"),
        };
        var oddRecords = odd.Select(o => o.Record with { Value = Utf8(o.Value) }).ToList();

        var positions = new List<TopicPartitionOffset>();
        bed.Produce(good[..first]);
        using (var w = bed.StartInProcess(router, "w1", processing: processing))
        {
            bed.WaitForFiltered(first, TimeSpan.FromSeconds(90));
            positions.AddRange(bed.ProduceRaw([.. poison.Select(p => p.Record), .. oddRecords])[..poison.Count]);
            bed.Produce(good[first..second]);
            bed.WaitForFiltered(second + odd.Count, TimeSpan.FromSeconds(90));
            WaitUntil(() => w.Worker.Status.Lag == 0 && w.Worker.Status.DeadLetters == poison.Count, "every record to be committed");
            Assert.True(w.Worker.Status.Ready);
        }

        // The same poison after a restart: the restore reads a changelog the poison did not touch, and each record is
        // dead-lettered once more (it is a new record), never the first ones again.
        using (var w = bed.StartInProcess(router, "w1", processing: processing))
        {
            positions.AddRange(bed.ProduceRaw([.. poison.Select(p => p.Record)]));
            bed.Produce(good[second..]);
            bed.WaitForFiltered(good.Count + odd.Count, TimeSpan.FromSeconds(90));
            WaitUntil(() => w.Worker.Status.Lag == 0 && w.Worker.Status.DeadLetters == poison.Count, "every record to be committed");
            Assert.True(w.Worker.Status.Ready);
            Assert.Equal(12 + 3, w.Worker.Status.LiveStreams);
        }

        OutputAssert.ExactlyOnce(bed, bed.Expected([.. good[..first], .. odd.Select(o => (o.Stream, o.Value)), .. good[first..]], router));
        var letters = bed.ReadCommittedMessages(bed.Options.DeadLetterTopic);
        Assert.Equal(2 * poison.Count, letters.Count);
        var bySource = letters.ToDictionary(l => (PartitionOf(l), long.Parse(Header(l, DeadLetterHeaders.SourceOffset), CultureInfo.InvariantCulture)));
        for (var i = 0; i < positions.Count; i++)
        {
            var (record, reason, says) = poison[i % poison.Count];
            Assert.True(bySource.TryGetValue((positions[i].Partition.Value, positions[i].Offset.Value), out var letter), $"no dead letter for {reason} ({says}) at {positions[i]}");
            Assert.Equal(reason, Header(letter, DeadLetterHeaders.Kind));
            Assert.Contains(says, Header(letter, DeadLetterHeaders.Message), StringComparison.Ordinal);

            // The original bytes (their leading bytes when the dead letter had to be cut to fit the message size).
            Assert.True((record.Key ?? []).AsSpan().StartsWith(letter.Key ?? []) && (record.Value ?? []).AsSpan().StartsWith(letter.Value ?? []), $"{reason} ({says}): not the original bytes");
        }

        // No state under another partition's stream or a reserved key: each changelog partition holds its own marker and
        // the states of streams whose records it received.
        for (var p = 0; p < KafkaTestBed.InputPartitions; p++)
        {
            var marker = ChangelogKeys.OffsetKey(bed.Options.InputTopic, p);
            var keys = bed.ReadPartition(bed.Options.ChangelogTopic, p).Select(m => m.Key).Distinct(new ByteArrayComparer()).ToList();
            Assert.All(keys.Where(k => ChangelogKeys.IsOffsetKey(k)), k => Assert.Equal(marker, k));
            Assert.DoesNotContain(keys, k => Encoding.UTF8.GetString(k) is "sensor-0002" or "sensor-0003" && p != PartitionOfStream(bed, Encoding.UTF8.GetString(k)));
        }
    }

    [Fact]
    public void Run_RecordWithoutAKeyAndTombstone_DeadLettersKeepTheNullKeyAndTheNullValue()
    {
        // Before: a missing key and a missing value were both dead-lettered as empty byte arrays, so the dead letter of
        // a keyless record had an empty key and that of a tombstone an empty value: re-producing a dead letter did not
        // give back the record, and the dead letters of an empty key or value could not be told from them.
        using var bed = new KafkaTestBed("null-dead-letters");
        var router = KafkaTestBed.Router(TestInput.Model, lag: 0, horizon: 0);
        var good = TestInput.Generate(streams: 3, perStream: 4, seed: 5);
        var reading = Encoding.UTF8.GetBytes("{\"time\":\"2026-01-01T00:09:30Z\",\"values\":[1]}");
        var stream = Encoding.UTF8.GetBytes("sensor-0001");
        bed.Produce(good);
        var positions = bed.ProduceRaw(new List<KafkaTestBed.RawRecord>
        {
            new(null, reading, 0),
            new([], reading, 1),
            new(stream, null),
            new(stream, []),
        });
        using (var w = bed.StartInProcess(router, "w1"))
        {
            bed.WaitForFiltered(good.Count, TimeSpan.FromSeconds(90));
            WaitUntil(() => w.Worker.Status.Lag == 0 && w.Worker.Status.DeadLetters == positions.Count, "every record to be committed");
        }

        var letters = bed.ReadCommittedMessages(bed.Options.DeadLetterTopic);
        Assert.Equal(positions.Count, letters.Count);
        Message<byte[], byte[]> LetterOf(TopicPartitionOffset p) => Assert.Single(letters, l =>
            PartitionOf(l) == p.Partition.Value && Header(l, DeadLetterHeaders.SourceOffset) == p.Offset.Value.ToString(CultureInfo.InvariantCulture));

        var keyless = LetterOf(positions[0]);
        Assert.Equal("missing-key", Header(keyless, DeadLetterHeaders.Kind));
        Assert.Null(keyless.Key);
        Assert.Equal(reading, keyless.Value);

        var emptyKey = LetterOf(positions[1]);
        Assert.Equal("missing-key", Header(emptyKey, DeadLetterHeaders.Kind));
        Assert.NotNull(emptyKey.Key);
        Assert.Empty(emptyKey.Key);

        var tombstone = LetterOf(positions[2]);
        Assert.Equal("unparseable", Header(tombstone, DeadLetterHeaders.Kind));
        Assert.Equal(stream, tombstone.Key);
        Assert.Null(tombstone.Value);

        var emptyValue = LetterOf(positions[3]);
        Assert.Equal("unparseable", Header(emptyValue, DeadLetterHeaders.Kind));
        Assert.Equal(stream, emptyValue.Key);
        Assert.NotNull(emptyValue.Value);
        Assert.Empty(emptyValue.Value);
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

    /// <summary>The input partition a stream's good records went to (the changelog partition its state belongs in).</summary>
    private static int PartitionOfStream(KafkaTestBed bed, string stream) =>
        Enumerable.Range(0, KafkaTestBed.InputPartitions).Single(p => bed.ReadPartition(bed.Options.InputTopic, p).Any(m => m.Key is { } k && Encoding.UTF8.GetString(k) == stream));

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

    private sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj)
        {
            var hash = default(HashCode);
            hash.AddBytes(obj);
            return hash.ToHashCode();
        }
    }

    private static int Varint(int length) => length < 64 ? 1 : length < 8192 ? 2 : 3;
}
