using System.Buffers;
using System.Text;
using System.Text.Json;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.Tests.Records;

public sealed class TerminalSafeTextTests
{
    /// <summary>Every character a terminal would act on, or that would reorder a line as shown.</summary>
    public static TheoryData<string> Hostile => new()
    {
        "\u001b]0;pwned\u0007", "\u001b[2J", "a\u0000b", "a\tb", "del\u007F", "csi\u009B31m", "nel\u0085",
        "rlo\u202Eevil", "lri\u2066x\u2069", "lrm\u200E", "rlm\u200F", "alm\u061C", "ls\u2028ps\u2029",
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void JsonOptions_HostileStreamId_IsEscapedAndParsesBack(string id)
    {
        // Before: the bidirectional controls were written raw (the relaxed encoder leaves them), so a record printed on
        // a terminal showed its text in another order than it held.
        using var writer = new OutputRecordWriter();
        var bytes = writer.WriteSmoothed(id + "-stream", new RecordTime(1, TimeFormat.ModelUnits), "m", "fixed-lag", 1, [1.0], [1.0]).ToArray();

        Assert.True(TerminalSafeText.IsSafeUtf8(bytes), Encoding.UTF8.GetString(bytes));
        Assert.Equal(id + "-stream", JsonDocument.Parse(bytes).RootElement.GetProperty("stream").GetString());
    }

    [Theory]
    [MemberData(nameof(Hostile))]
    public void JsonOptions_HostileUtf8Text_IsEscapedAndParsesBack(string text)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, OutputRecordWriter.JsonOptions))
        {
            json.WriteStartObject();
            json.WriteString(Encoding.UTF8.GetBytes(text), Encoding.UTF8.GetBytes("é " + text + " ü"));
            json.WriteEndObject();
        }

        Assert.True(TerminalSafeText.IsSafeUtf8(buffer.WrittenSpan), Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.Equal("é " + text + " ü", JsonDocument.Parse(buffer.WrittenMemory).RootElement.GetProperty(text).GetString());
        Assert.False(TerminalSafeText.IsSafeUtf8(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void JsonOptions_OrdinaryText_IsWrittenAsItself()
    {
        var text = "capteur-température O'Brien <pump> & 温度 \u20AC \u2030";
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, OutputRecordWriter.JsonOptions))
        {
            json.WriteStringValue(text);
        }

        Assert.Equal("\"" + text + "\"", Encoding.UTF8.GetString(buffer.WrittenSpan));
        Assert.True(TerminalSafeText.IsSafeUtf8(buffer.WrittenSpan));
    }

    [Fact]
    public void IsSafeUtf8_InvalidOrTruncatedUtf8_IsNotSafe()
    {
        Assert.False(TerminalSafeText.IsSafeUtf8([0x61, 0xff]));
        Assert.False(TerminalSafeText.IsSafeUtf8([0xE2, 0x80]));
        Assert.False(TerminalSafeText.IsSafeUtf8([0xC2]));
        Assert.True(TerminalSafeText.IsSafeUtf8("\u00A0\u00E9\u2030\u2065\u206A"u8));
    }
}
