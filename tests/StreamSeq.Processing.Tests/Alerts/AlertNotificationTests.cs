using System.Text;
using StreamSeq.Processing.Alerts;

namespace StreamSeq.Processing.Tests.Alerts;

public sealed class AlertNotificationTests
{
    [Fact]
    public void TryParse_AnomalyRecordOfTheWriter_ReadsEveryField()
    {
        var at = new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
        var record = "{\"type\":\"anomaly\",\"stream\":\"temperature-0001\",\"time\":\"2026-01-01T00:05:00Z\",\"model\":\"room\",\"rule\":\"surprise\",\"score\":7.5,\"threshold\":3,\"values\":[31.2,null],\"expected\":[21.4,0],\"logLik\":-9.1,\"nis\":12.5}";
        Assert.True(AlertNotification.TryParse(Encoding.UTF8.GetBytes(record), at, out var alert));
        Assert.Equal(new AlertNotification("temperature-0001", "room", "surprise", 7.5, 3, "2026-01-01T00:05:00Z", "[31.2,null]", "[21.4,0]", at), alert);
    }

    [Fact]
    public void TryParse_NumericTimeAndNullScore_KeepsTheNumberAndReadsNaN()
    {
        var record = "{\"type\":\"anomaly\",\"stream\":\"s\",\"time\":1767225900000,\"model\":\"m\",\"rule\":\"r\",\"score\":null,\"threshold\":null,\"values\":[],\"expected\":[]}";
        Assert.True(AlertNotification.TryParse(Encoding.UTF8.GetBytes(record), DateTimeOffset.UnixEpoch, out var alert));
        Assert.Equal("1767225900000", alert!.Time);
        Assert.True(double.IsNaN(alert.Score) && double.IsNaN(alert.Threshold));
    }

    [Fact]
    public void TryParse_InfiniteScore_IsReadAsInfinityAndWrittenSo()
    {
        // A reading far beyond double range gives an infinite NIS, which the chi-square rule scores "Infinity".
        var record = "{\"type\":\"anomaly\",\"stream\":\"s\",\"time\":1,\"model\":\"m\",\"rule\":\"r\",\"score\":\"Infinity\",\"threshold\":4,\"values\":[1E+300],\"expected\":[20]}";
        Assert.True(AlertNotification.TryParse(Encoding.UTF8.GetBytes(record), DateTimeOffset.UnixEpoch, out var alert));
        Assert.Equal(double.PositiveInfinity, alert!.Score);
        Assert.Equal("Infinity", AlertNotification.Format(alert.Score));
    }

    [Theory]
    [InlineData("{\"type\":\"filtered\",\"stream\":\"s\",\"time\":1,\"model\":\"m\"}")]
    [InlineData("{\"type\":\"anomaly\",\"stream\":\"s\",\"time\":1,\"model\":\"m\"}")]
    [InlineData("{\"type\":\"anomaly\",\"stream\":\"s\",\"time\":1,\"model\":\"m\",\"rule\":")]
    [InlineData("[1,2]")]
    [InlineData("")]
    public void TryParse_OtherOrMalformedRecords_False(string record) =>
        Assert.False(AlertNotification.TryParse(Encoding.UTF8.GetBytes(record), DateTimeOffset.UnixEpoch, out _));
}
