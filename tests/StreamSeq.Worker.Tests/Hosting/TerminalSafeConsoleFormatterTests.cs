using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using StreamSeq.Worker.Hosting;

namespace StreamSeq.Worker.Tests.Hosting;

/// <summary>The console log's text formatters escape what they print; the JSON one, whose encoder escapes, gets the exact text.</summary>
public sealed class TerminalSafeConsoleFormatterTests
{
    private const string Hostile = "sensor-\u001b[2J\r\nwarn: forged\u202E\u009B";

    [Theory]
    [InlineData(ConsoleFormatterNames.Simple)]
    [InlineData(ConsoleFormatterNames.Systemd)]
    public void Write_TextFormatter_MessageExceptionAndScopesEscapedAndTheStackStillOneFrameALine(string name)
    {
        var formatter = Formatter(name, includeScopes: true);
        var scopes = new LoggerExternalScopeProvider();
        using var scope = scopes.Push("request " + Hostile);
        var error = Thrown(new InvalidOperationException("bad stream " + Hostile));

        var text = Write(formatter, $"Discarded stream {Hostile}", error, scopes);

        Assert.False(text.AsSpan().IndexOfAny('\u001b', '\u009B', '\u202E') >= 0, text);
        Assert.False(text.Contains('\r', StringComparison.Ordinal), text);
        Assert.DoesNotContain(text.Split('\n'), l => l.TrimStart().StartsWith("warn: forged", StringComparison.Ordinal));
        const string Shown = "sensor-\\x1B[2J\\x0D\\x0Awarn: forged\\u202E\\x9B";
        Assert.Contains($"Discarded stream {Shown}", text, StringComparison.Ordinal);
        Assert.Contains($"bad stream {Shown}", text, StringComparison.Ordinal);
        Assert.Contains($"request {Shown}", text, StringComparison.Ordinal);
        if (name == ConsoleFormatterNames.Simple)
        {
            // The simple formatter prints the stack below the message, a frame a line, as it does for any exception.
            Assert.Contains(text.Split('\n'), l => l.TrimStart().StartsWith("at StreamSeq.Worker.Tests.Hosting.TerminalSafeConsoleFormatterTests.Thrown", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Write_JsonFormatter_MessageKeepsTheExactTextForTheEncoderToEscape()
    {
        var text = Write(Formatter(ConsoleFormatterNames.Json, includeScopes: false), $"Discarded stream {Hostile}", null, null);

        Assert.False(text.AsSpan().IndexOfAny('\u001b', '\u009B', '\u202E') >= 0, text);
        Assert.Equal($"Discarded stream {Hostile}", JsonDocument.Parse(text).RootElement.GetProperty("Message").GetString());
    }

    [Fact]
    public void Show_NoControlCharacters_TheMessageAsItIs() =>
        Assert.Equal("Restored partition 3: 12 streams", TerminalSafeConsoleFormatter.Show("Restored partition 3: 12 streams", null));

    private static ConsoleFormatter Formatter(string name, bool includeScopes)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging =>
        {
            logging.AddConsole();
            logging.AddSimpleConsole(o => (o.IncludeScopes, o.ColorBehavior) = (includeScopes, LoggerColorBehavior.Disabled));
            logging.AddSystemdConsole(o => o.IncludeScopes = includeScopes);
            TerminalSafeConsoleFormatter.Register(logging);
        });
        using var provider = services.BuildServiceProvider();
        var formatter = Assert.Single(provider.GetServices<ConsoleFormatter>(), f => f.Name == name);
        Assert.IsType<TerminalSafeConsoleFormatter>(formatter);
        return formatter;
    }

    private static string Write(ConsoleFormatter formatter, string message, Exception? error, IExternalScopeProvider? scopes)
    {
        using var writer = new StringWriter();
        var entry = new LogEntry<string>(LogLevel.Warning, "StreamSeq.Kafka.Transport.KafkaStreamWorker", new EventId(7), message, error, static (s, _) => s);
        formatter.Write(entry, scopes, writer);
        return writer.ToString();
    }

    private static Exception Thrown(Exception error)
    {
        try
        {
            throw error;
        }
        catch (InvalidOperationException e)
        {
            return e;
        }
    }
}
