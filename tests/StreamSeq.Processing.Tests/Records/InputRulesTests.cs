using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.Tests.Records;

public sealed class InputRulesTests
{
    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData("NaN")]
    [InlineData("nan")]
    [InlineData(" NAN ")]
    public void TryParseReading_EmptyOrNaN_IsMissing(string cell)
    {
        Assert.True(InputRules.TryParseReading(cell, out var value, out var problem));
        Assert.True(double.IsNaN(value));
        Assert.Null(problem);
    }

    [Theory]
    [InlineData("1.5", 1.5)]
    [InlineData(" -2e3 ", -2000.0)]
    [InlineData("1.7976931348623157e308", double.MaxValue)]
    public void TryParseReading_FiniteNumber_IsTheNumber(string cell, double expected)
    {
        Assert.True(InputRules.TryParseReading(cell, out var value, out _));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("1e999", "out of the range")]
    [InlineData("-1e999", "out of the range")]
    [InlineData("Infinity", "not a finite number")]
    [InlineData("-Infinity", "not a finite number")]
    [InlineData("-inf", "not a finite number")]
    [InlineData("inf", "not a finite number")]
    [InlineData("abc", "not a number")]
    [InlineData("null", "not a number")]
    [InlineData("NA", "not a number")]
    [InlineData("1,5", "not a number")]
    public void TryParseReading_AnythingElse_IsRejectedWithTheReason(string cell, string reason)
    {
        Assert.False(InputRules.TryParseReading(cell, out _, out var problem));
        Assert.Contains(reason, problem, StringComparison.Ordinal);
        Assert.Contains(cell.Trim(), problem, StringComparison.Ordinal);
    }

    /// <summary>
    /// A text reader decodes bytes that are not UTF-8 to U+FFFD: such a cell was rejected quoting the replacement
    /// characters back ("'\uFFFD\uFFFD' is not a number") instead of saying the bytes are not UTF-8.
    /// </summary>
    [Fact]
    public void TryParse_CellWithBytesThatAreNotUtf8_IsRejectedAsNotUtf8()
    {
        Assert.False(InputRules.TryParseReading(" 1\uFFFD\uFFFD ", out _, out var reading));
        Assert.Equal("is not valid UTF-8", reading);
        Assert.False(InputRules.TryParseTime("\uFFFD", out _, out var time));
        Assert.Equal("is not valid UTF-8", time);
    }

    [Fact]
    public void IsInRange_Year9999WithForecasts_IsOutOfRangeButWithoutIsFine()
    {
        Assert.True(RecordTime.TryParseIso("9999-12-31T23:59:59Z", out var time));

        Assert.True(InputRules.IsInRange(time, 0, 1000, out _));
        Assert.False(InputRules.IsInRange(time, 2, 1000, out var problem));
        Assert.Contains("9999", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void IsInRange_EpochMillisecondsBeyondYear9999_IsOutOfRange()
    {
        Assert.False(InputRules.IsInRange(new RecordTime(1e300, TimeFormat.EpochMilliseconds), 0, 1, out _));
        Assert.True(InputRules.IsInRange(new RecordTime(1e300, TimeFormat.ModelUnits), 5, 1, out _));
        Assert.False(InputRules.IsInRange(new RecordTime(double.MaxValue, TimeFormat.ModelUnits), double.MaxValue, 1, out _));
    }

    [Fact]
    public void Fingerprint_EqualReadings_EqualAndDifferentReadings_Differ()
    {
        Assert.Equal(InputRules.Fingerprint([1.0, double.NaN], []), InputRules.Fingerprint([1.0, double.NaN], []));
        Assert.Equal(InputRules.Fingerprint([0.0], []), InputRules.Fingerprint([-0.0], []));
        Assert.NotEqual(InputRules.Fingerprint([1.0], []), InputRules.Fingerprint([1.0000000000000002], []));
        Assert.NotEqual(InputRules.Fingerprint([1.0], [2.0]), InputRules.Fingerprint([1.0], [3.0]));
        Assert.NotEqual(InputRules.Fingerprint([1.0, 2.0], []), InputRules.Fingerprint([1.0], [2.0]));
    }
}
