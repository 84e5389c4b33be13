using System.Text;
using System.Text.Json;
using CsCheck;
using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.Tests.Records;

public sealed class InputRecordDecoderTests
{
    private static readonly SourcePosition Src = new("in", 0, 7);

    private static (bool Ok, string Stream, RecordTime Time, double[] Values, DeadLetterReason Reason, string? Error) Decode(string json, string key = "s1", double fallback = 1234.0, TimeFormat numeric = TimeFormat.EpochMilliseconds)
    {
        var decoder = new InputRecordDecoder(maxComponents: 4, maxRecordBytes: 256, numericTimeFormat: numeric);
        var ok = decoder.TryDecode(Encoding.UTF8.GetBytes(json), key, fallback, Src, out var r, out var reason, out var error);
        return ok ? (true, r.StreamId.ToString(), r.Time, r.Values.ToArray(), reason, error) : (false, "", default, [], reason, error);
    }

    [Fact]
    public void TryDecode_IsoTimeAndNulls_GivesEpochMillisecondsAndMissingValues()
    {
        var r = Decode("""{"time":"2026-01-01T00:00:01.5Z","values":[1.25,null,"NaN"]}""");
        Assert.True(r.Ok);
        Assert.Equal("s1", r.Stream);
        Assert.Equal(TimeFormat.Iso8601, r.Time.Format);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 1, 500, TimeSpan.Zero).ToUnixTimeMilliseconds(), r.Time.Value);
        Assert.Equal(1.25, r.Values[0]);
        Assert.True(double.IsNaN(r.Values[1]) && double.IsNaN(r.Values[2]));
    }

    [Fact]
    public void TryDecode_NoTime_UsesTransportTimestamp()
    {
        var r = Decode("""{"values":[3]}""", fallback: 1700000000123);
        Assert.True(r.Ok);
        Assert.Equal(new RecordTime(1700000000123, TimeFormat.EpochMilliseconds), r.Time);
    }

    [Fact]
    public void TryDecode_StreamField_OverridesEmptyKeyAndNumericTimeIsModelUnits()
    {
        var r = Decode("""{"stream":"pump-7","time":12.5,"values":[1],"extra":{"ignored":[1,2]}}""", key: "", numeric: TimeFormat.ModelUnits);
        Assert.True(r.Ok);
        Assert.Equal("pump-7", r.Stream);
        Assert.Equal(new RecordTime(12.5, TimeFormat.ModelUnits), r.Time);
    }

    [Theory]
    [InlineData("""{"time":1}""", DeadLetterReason.Unparseable, "'values' is required")]
    [InlineData("""{"values":[1,"x"]}""", DeadLetterReason.Unparseable, "element 1")]
    [InlineData("""{"values":[1,2,3,4,5]}""", DeadLetterReason.TooLarge, "limit of 4")]
    [InlineData("""{"time":"yesterday","values":[1]}""", DeadLetterReason.Unparseable, "'time' is not an ISO-8601")]
    [InlineData("""{"values":[1]""", DeadLetterReason.Unparseable, "invalid JSON")]
    [InlineData("""[1,2]""", DeadLetterReason.Unparseable, "JSON object")]
    public void TryDecode_BadRecord_FailsNamingTheField(string json, DeadLetterReason reason, string message)
    {
        var r = Decode(json);
        Assert.False(r.Ok);
        Assert.Equal(reason, r.Reason);
        Assert.Contains(message, r.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"values":[1],"values":[2]}""", "field 'values' appears twice")]
    [InlineData("""{"time":1,"time":2,"values":[1]}""", "field 'time' appears twice")]
    [InlineData("""{"stream":"a","stream":"b","values":[1]}""", "field 'stream' appears twice")]
    [InlineData("""{"values":[1],"control":[1],"control":[2]}""", "field 'control' appears twice")]
    [InlineData("""{"values":[1]} trailing""", "invalid JSON at byte 16: 't' is invalid after a single JSON value.")]
    [InlineData("""{"values":[1]}{"values":[2]}""", "invalid JSON at byte 15:")]
    [InlineData("""{"values":[1],}""", "invalid JSON at byte 15: The JSON object contains a trailing comma at the end which is not supported in this mode.")]
    public void TryDecode_AmbiguousOrTrailingText_IsUnparseableSayingWhere(string json, string message)
    {
        var r = Decode(json, key: "s1", numeric: TimeFormat.ModelUnits);

        Assert.False(r.Ok);
        Assert.Equal(DeadLetterReason.Unparseable, r.Reason);
        Assert.StartsWith(message, r.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", r.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("reader options", r.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryDecode_WhiteSpaceOrCommentAfterTheObject_IsAccepted()
    {
        Assert.True(Decode("{\"values\":[1]}  \t").Ok);
        Assert.True(Decode("""{"values":[1]} // from the sensor gateway""").Ok);
    }

    [Fact]
    public void TryDecode_NoKeyAndNoStreamField_IsMissingKey()
    {
        var r = Decode("""{"values":[1]}""", key: "");
        Assert.Equal(DeadLetterReason.MissingKey, r.Reason);
    }

    /// <summary>
    /// A JSON Lines record with a misspelt or renamed field ({"steram":...}, {"sensor":...}) was rejected as having no
    /// stream id, and nothing said that the record did have a field, ignored as unknown, that was meant to be it. The
    /// message now names the unknown field most like the missing one; unknown fields are still ignored otherwise.
    /// </summary>
    [Theory]
    [InlineData("""{"steram":"a","time":1,"values":[1]}""", "", DeadLetterReason.MissingKey, "record has no stream id (Kafka key or 'stream' field). It has field 'steram', which is ignored (not a field of the record): should it be 'stream'?")]
    [InlineData("""{"sensor":"a","time":1,"values":[1]}""", "", DeadLetterReason.MissingKey, "record has no stream id (Kafka key or 'stream' field). It has field 'sensor', which is ignored (not a field of the record): should it be 'stream'?")]
    [InlineData("""{"site":"x","Stream":"a","time":1,"values":[1]}""", "", DeadLetterReason.MissingKey, "record has no stream id (Kafka key or 'stream' field). It has field 'Stream' (and 1 more unknown field), which is ignored (not a field of the record): should it be 'stream'?")]
    [InlineData("""{"stream":"a","tiem":1,"values":[1]}""", "", DeadLetterReason.Unparseable, "field 'time' is required here (no transport timestamp to fall back on). It has field 'tiem', which is ignored (not a field of the record): should it be 'time'?")]
    [InlineData("""{"stream":"a","time":1,"value":[1]}""", "", DeadLetterReason.Unparseable, "field 'values' is required (an array of numbers or nulls). It has field 'value', which is ignored (not a field of the record): should it be 'values'?")]
    [InlineData("""{"stream":"a","time":1}""", "", DeadLetterReason.Unparseable, "field 'values' is required (an array of numbers or nulls).")]
    public void TryDecode_RequiredFieldMissing_NamesTheUnknownFieldMostLikeIt(string json, string key, DeadLetterReason reason, string message)
    {
        var r = Decode(json, key: key, fallback: double.NaN, numeric: TimeFormat.ModelUnits);

        Assert.False(r.Ok);
        Assert.Equal(reason, r.Reason);
        Assert.Equal(message, r.Error);
    }

    /// <summary>A file line has no Kafka key: the message names the <c>stream</c> field alone, with the same hint; a
    /// Kafka record keeps the wording above.</summary>
    [Theory]
    [InlineData("""{"time":1,"values":[1]}""", "record has no 'stream' field.")]
    [InlineData("""{"steram":"a","time":1,"values":[1]}""", "record has no 'stream' field. It has field 'steram', which is ignored (not a field of the record): should it be 'stream'?")]
    public void TryDecode_FileLineWithoutAStreamField_SaysTheFieldIsMissing(string json, string message)
    {
        var decoder = new InputRecordDecoder(numericTimeFormat: TimeFormat.ModelUnits);
        Assert.False(decoder.TryDecode(Encoding.UTF8.GetBytes(json), default, double.NaN, SourcePosition.FileLine("in.jsonl", 3), out _, out var reason, out var error));
        Assert.Equal(DeadLetterReason.MissingKey, reason);
        Assert.Equal(message, error);
    }

    [Fact]
    public void TryDecode_UnknownFieldsBesideTheRequiredOnes_AreStillIgnored()
    {
        var r = Decode("""{"sensor":"x","steram":"y","stream":"a","time":1,"values":[1]}""", key: "", fallback: double.NaN, numeric: TimeFormat.ModelUnits);

        Assert.True(r.Ok);
        Assert.Equal("a", r.Stream);
    }

    [Theory]
    [InlineData("s1", """{"stream":"s1","values":[1]}""", true, "")]
    [InlineData("s1", """{"stream":"s2","values":[1]}""", false, "field 'stream' (\"s2\") differs from the record's key (\"s1\"), which is the stream id.")]
    [InlineData("s1", """{"stream":"\u0000offset\u0000in\u00000","values":[1]}""", false, "field 'stream' (\"\\u0000offset\\u0000in\\u00000\") differs")]
    [InlineData("s1", """{"stream":"S1","values":[1]}""", false, "field 'stream' (\"S1\") differs")]
    public void TryDecode_KeyAndStreamField_MustNameTheSameStream(string key, string json, bool ok, string message)
    {
        var r = Decode(json, key: key);

        Assert.Equal(ok, r.Ok);
        if (!ok)
        {
            Assert.Equal(DeadLetterReason.KeyMismatch, r.Reason);
            Assert.StartsWith(message, r.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TryDecode_StreamFieldUpToTheLongestKeyEscapedOrNot_IsTheStreamId()
    {
        // As Python's json.dumps and System.Text.Json write it by default, a 102-character id with 90 'é' is 552 bytes of
        // \u00e9 escapes: it used to be refused as 'longer than 512 characters', as was any id of 513 to 1,024
        // characters, which the worker takes as a Kafka key. The limit is the key's: 1,024 bytes of UTF-8, unescaped.
        var decoder = new InputRecordDecoder();
        string[] ids = ["temperature-" + new string('é', 90), "s-" + new string('k', 1022), new string('é', 512), string.Concat(Enumerable.Repeat("😀", 256))];
        foreach (var id in ids)
        {
            foreach (var written in (string[])[JsonSerializer.Serialize(id), $"\"{id}\""])
            {
                var json = Encoding.UTF8.GetBytes($"{{\"stream\":{written},\"values\":[1]}}");
                Assert.True(decoder.TryDecode(json, id, 0, Src, out var record, out _, out var error), error);
                Assert.Equal(id, record.StreamId.ToString());
                Assert.True(decoder.TryDecode(json, string.Empty, 0, Src, out record, out _, out error), error);
                Assert.Equal(id, record.StreamId.ToString());
            }
        }

        // One byte more, however written, is too large, and the message says the limit.
        foreach (var id in (string[])[new string('k', 1025), new string('é', 513), new string('é', 1025)])
        {
            foreach (var written in (string[])[JsonSerializer.Serialize(id), $"\"{id}\""])
            {
                var json = Encoding.UTF8.GetBytes($"{{\"stream\":{written},\"values\":[1]}}");
                Assert.False(decoder.TryDecode(json, string.Empty, 0, Src, out _, out var reason, out var error));
                Assert.Equal(DeadLetterReason.TooLarge, reason);
                Assert.Equal("field 'stream' is longer than 1024 bytes in UTF-8.", error);
            }
        }
    }

    [Fact]
    public void TryDecode_EmptyRecord_IsUnparseableSayingSo()
    {
        var decoder = new InputRecordDecoder();

        Assert.False(decoder.TryDecode([], "s1", 0, Src, out _, out var reason, out var error));
        Assert.Equal(DeadLetterReason.Unparseable, reason);
        Assert.Equal("record is empty (0 bytes; a Kafka tombstone has no value): it must be a JSON object.", error);
    }

    [Theory]
    [InlineData(new byte[] { 0xe9 }, 23)] // Latin-1 'é' in a field the reader skips
    [InlineData(new byte[] { 0xed, 0xa0, 0x80 }, 23)] // a UTF-16 surrogate encoded as UTF-8
    [InlineData(new byte[] { 0xc3, 0xa9, 0xc0, 0xaf }, 25)] // a valid 'é', then an overlong '/'
    public void TryDecode_InvalidUtf8AnywhereInTheRecord_IsUnparseableNamingTheByte(byte[] bad, int at)
    {
        var json = (byte[])[.. "{\"values\":[1],\"note\":\""u8, .. bad, .. "\"}"u8];
        var decoder = new InputRecordDecoder();

        Assert.False(decoder.TryDecode(json, "s1", 0, Src, out _, out var reason, out var error));
        Assert.Equal(DeadLetterReason.Unparseable, reason);
        Assert.Equal($"record is not valid UTF-8 (invalid sequence at byte {at}).", error);
    }

    [Fact]
    public void TryDecode_OversizedRecord_IsTooLarge()
    {
        var r = Decode("{\"values\":[" + string.Join(",", Enumerable.Repeat("1", 200)) + "]}");
        Assert.Equal(DeadLetterReason.TooLarge, r.Reason);
    }

    [Fact]
    public void TryDecode_ArbitraryBytes_NeverThrows()
    {
        var decoder = new InputRecordDecoder(4, 256);
        Gen.Byte.Array[0, 300].Sample(bytes =>
        {
            decoder.TryDecode(bytes, "k", 0, Src, out _, out _, out _);
        }, iter: 2000, threads: 1);
        Gen.String[Gen.Char["{}[]\":,0123456789.-eEnulltruevaluestime "], 0, 80].Sample(text =>
        {
            decoder.TryDecode(Encoding.UTF8.GetBytes(text), "k", 0, Src, out _, out _, out _);
        }, iter: 5000, threads: 1);
    }
}
