using System.ComponentModel;
using System.Globalization;
using CsCheck;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StreamSeq.Worker.Alerts;
using StreamSeq.Worker.Configuration;

namespace StreamSeq.Worker.Tests.Configuration;

/// <summary>
/// Duration settings take numbers with units (<c>100ms</c>, <c>15s</c>, <c>1m</c>, <c>1h</c>) as well as .NET time
/// spans, everywhere the worker reads one: the start-up checks, the settings it binds and the alert webhook's options.
/// </summary>
public sealed class DurationConverterTests
{
    [Theory]
    [InlineData("100ms", 100)]
    [InlineData("15s", 15_000)]
    [InlineData("1m", 60_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("2d", 172_800_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("1m0.5s", 60_500)]
    [InlineData("1.5s", 1_500)]
    [InlineData(" 250ms ", 250)]
    [InlineData("0s", 0)]
    public void TryParseWithUnits_KafkaStyleDuration_TheSameTimeSpan(string text, long milliseconds)
    {
        Assert.True(DurationConverter.TryParseWithUnits(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("ms")]
    [InlineData("15")]
    [InlineData("1 m")]
    [InlineData("15S")]
    [InlineData("5x")]
    [InlineData("-5s")]
    [InlineData("1m 30s")]
    [InlineData("00:00:15")]
    [InlineData("99999999999999d")]
    public void TryParseWithUnits_AnythingElse_False(string text)
    {
        Assert.False(DurationConverter.TryParseWithUnits(text, out _));
    }

    [Fact]
    public void TryParseWithUnits_WholeMillisecondsWrittenInAnyUnit_RoundTrip()
    {
        Gen.Long[0, 10L * 365 * 86_400_000].Sample(ms =>
        {
            var span = TimeSpan.FromMilliseconds(ms);
            var written = string.Create(CultureInfo.InvariantCulture, $"{(long)span.TotalDays}d{span.Hours}h{span.Minutes}m{span.Seconds}s{span.Milliseconds}ms");
            return DurationConverter.TryParseWithUnits(written, out var read) && read == span
                && DurationConverter.TryParseWithUnits(string.Create(CultureInfo.InvariantCulture, $"{ms}ms"), out var plain) && plain == span;
        });
    }

    [Fact]
    public void Load_DurationsWithUnits_BoundLikeTheirTimeSpanSpelling()
    {
        var withUnits = Load(new()
        {
            ["StreamSeq:Kafka:CommitInterval"] = "250ms",
            ["StreamSeq:Kafka:TransactionTimeout"] = "15s",
            ["StreamSeq:Kafka:SessionTimeout"] = "20s",
            ["StreamSeq:Processing:AllowedLateness"] = "1m30s",
            ["StreamSeq:Processing:MaxTimeSkew"] = "2h",
            ["StreamSeq:Alerts:Webhook:Url"] = "http://127.0.0.1:9/api/v2/alerts",
            ["StreamSeq:Alerts:Webhook:ResolveAfter"] = "10m",
        });
        var spelledOut = Load(new()
        {
            ["StreamSeq:Kafka:CommitInterval"] = "00:00:00.250",
            ["StreamSeq:Kafka:TransactionTimeout"] = "00:00:15",
            ["StreamSeq:Kafka:SessionTimeout"] = "00:00:20",
            ["StreamSeq:Processing:AllowedLateness"] = "00:01:30",
            ["StreamSeq:Processing:MaxTimeSkew"] = "02:00:00",
            ["StreamSeq:Alerts:Webhook:Url"] = "http://127.0.0.1:9/api/v2/alerts",
            ["StreamSeq:Alerts:Webhook:ResolveAfter"] = "00:10:00",
        });

        Assert.Equal(TimeSpan.FromMilliseconds(250), withUnits.Settings.Kafka.CommitInterval);
        Assert.Equal(TimeSpan.FromSeconds(15), withUnits.Settings.Kafka.TransactionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(20), withUnits.Settings.Kafka.SessionTimeout);
        Assert.Equal(TimeSpan.FromSeconds(90), withUnits.Settings.Processing.AllowedLateness);
        Assert.Equal(TimeSpan.FromHours(2), withUnits.Settings.Processing.MaxTimeSkew);
        Assert.Equal(TimeSpan.FromMinutes(10), withUnits.Alerts.Webhook.ResolveAfter);
        Assert.Equal(spelledOut.Settings.Kafka.CommitInterval, withUnits.Settings.Kafka.CommitInterval);
        Assert.Equal(spelledOut.Settings.Processing.AllowedLateness, withUnits.Settings.Processing.AllowedLateness);
        Assert.Equal(spelledOut.Alerts.Webhook.ResolveAfter, withUnits.Alerts.Webhook.ResolveAfter);
    }

    [Fact]
    public void Load_DurationThatIsNeither_OneLineNamingTheSettingAndBothNotations()
    {
        var e = Assert.Throws<InvalidSettingsException>(() => Load(new() { ["StreamSeq:Kafka:CommitInterval"] = "100 ms" }));

        var problem = Assert.Single(e.Problems);
        Assert.StartsWith("StreamSeq:Kafka:CommitInterval: '100 ms' is not a duration (100ms, 15s, 1m", problem, StringComparison.Ordinal);
        Assert.Contains("00:00:00.250", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DurationWithUnitsOutOfRange_TheRangeProblemAsForATimeSpan()
    {
        var e = Assert.Throws<InvalidSettingsException>(() => Load(new() { ["StreamSeq:Kafka:TransactionTimeout"] = "1h" }));

        Assert.StartsWith("StreamSeq:Kafka:TransactionTimeout: must be between 1s and 15m, got 1h.", Assert.Single(e.Problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00", "0s")]
    [InlineData("00:00:00.001", "1ms")]
    [InlineData("00:10:00", "10m")]
    [InlineData("01:30:00", "1h30m")]
    [InlineData("1.00:00:01.500", "1d1s500ms")]
    [InlineData("-00:00:01", "-1s")]
    [InlineData("00:00:00.0000001", "00:00:00.0000001")]
    public void Format_Durations_InTheNotationWithUnitsThatReadsBack(string written, string shown)
    {
        var duration = TimeSpan.Parse(written, System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(shown, DurationConverter.Format(duration));
        if (duration >= TimeSpan.Zero && duration.Ticks % TimeSpan.TicksPerMillisecond == 0)
        {
            Assert.True(DurationConverter.TryParseWithUnits(shown, out var back) && back == duration, $"{shown} should read back as {written}");
        }
    }

    [Fact]
    public void ConvertFrom_TimeSpanSpellings_StillRead()
    {
        DurationConverter.Install();
        var converter = TypeDescriptor.GetConverter(typeof(TimeSpan));

        Assert.IsType<DurationConverter>(converter);
        Assert.Equal(TimeSpan.FromMilliseconds(100), converter.ConvertFromInvariantString("00:00:00.100"));
        Assert.Equal(TimeSpan.FromDays(1.5), converter.ConvertFromInvariantString("1.12:00:00"));
        Assert.Equal(TimeSpan.Zero, converter.ConvertFromInvariantString("0"));
        Assert.Throws<FormatException>(() => converter.ConvertFromInvariantString("soon"));
    }

    [Theory]
    [InlineData("2")]
    [InlineData("30")]
    [InlineData(" 1.5 ")]
    [InlineData("-3")]
    public void ConvertFrom_BareNumberOtherThanZero_RefusedRatherThanReadAsDays(string text)
    {
        DurationConverter.Install();
        var converter = TypeDescriptor.GetConverter(typeof(TimeSpan));

        var e = Assert.Throws<FormatException>(() => converter.ConvertFromInvariantString(text));
        Assert.Contains("has no unit", e.Message, StringComparison.Ordinal);
        Assert.Contains($"{text.Trim()}s", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("StreamSeq:Processing:AllowedLateness", "30")]
    [InlineData("StreamSeq:Kafka:CommitInterval", "1")]
    [InlineData("StreamSeq:Alerts:Webhook:ResolveAfter", "10")]
    public void Load_BareNumberForADuration_OneLineNamingTheSettingAndTheUnits(string key, string value)
    {
        var values = new Dictionary<string, string?> { [key] = value };
        if (key.StartsWith("StreamSeq:Alerts", StringComparison.Ordinal))
        {
            values["StreamSeq:Alerts:Webhook:Url"] = "http://127.0.0.1:9/api/v2/alerts";
        }

        var e = Assert.Throws<InvalidSettingsException>(() => Load(values));

        var problem = Assert.Single(e.Problems);
        Assert.Equal($"{key}: '{value}' has no unit: write {value}s, {value}m, {value}ms, {value}h or {value}d (a bare number would be read as days).", problem);
    }

    private static (WorkerSettings Settings, AlertSettings Alerts) Load(Dictionary<string, string?> values)
    {
        values["StreamSeq:Kafka:BootstrapServers"] = "kafka:9092";
        values["StreamSeq:Models:0:name"] = "level";
        values["StreamSeq:Models:0:kind"] = "linear-gaussian";
        values["StreamSeq:Models:0:components:0:type"] = "local-level";
        values["StreamSeq:Models:0:components:0:levelNoise"] = "0.1";
        values["StreamSeq:Models:0:observationNoise:0:0"] = "1";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var settings = WorkerSettings.Load(configuration);

        // The webhook's options are bound by the options system, as the host does.
        using var provider = new ServiceCollection().AddAlertSinks(configuration).BuildServiceProvider();
        return (settings, provider.GetRequiredService<IOptions<AlertSettings>>().Value);
    }
}
