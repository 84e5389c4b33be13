using CsCheck;
using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.Tests.Records;

public sealed class RecordTimeTests
{
    [Theory]
    [InlineData("2026-03-04T05:06:07Z", "2026-03-04T05:06:07Z")]
    [InlineData("2026-03-04T05:06:07.250Z", "2026-03-04T05:06:07.250Z")]
    [InlineData("2026-03-04T07:06:07+02:00", "2026-03-04T05:06:07Z")]
    [InlineData("2026-03-04T05:06:07.123456Z", "2026-03-04T05:06:07.123456Z")]
    public void FormatIso_ParsedTime_WritesUtcIso(string input, string expected)
    {
        Assert.True(RecordTime.TryParseIso(input, out var t));
        var buffer = new char[40];
        Assert.Equal(expected, new string(buffer, 0, t.FormatIso(buffer)));
    }

    [Fact]
    public void FormatIso_MillisecondTimes_RoundTripExactly()
    {
        Gen.Long[0, 4_102_444_800_000].Sample(ms =>
        {
            var t = new RecordTime(ms, TimeFormat.Iso8601);
            var buffer = new char[40];
            var text = new string(buffer, 0, t.FormatIso(buffer));
            Assert.True(RecordTime.TryParseIso(text, out var back));
            Assert.Equal(t, back);
        }, iter: 2000);
    }

    [Fact]
    public void ToModelTime_EpochWithMinuteUnit_DividesByUnit()
    {
        var t = new RecordTime(120_000, TimeFormat.EpochMilliseconds);
        Assert.Equal(2.0, t.ToModelTime(60_000));
        Assert.Equal(new RecordTime(180_000, TimeFormat.EpochMilliseconds), t.AddModelTime(1.0, 60_000));
        Assert.Equal(5.0, new RecordTime(5.0, TimeFormat.ModelUnits).ToModelTime(60_000));
    }
}
