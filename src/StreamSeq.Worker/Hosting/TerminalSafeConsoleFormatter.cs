using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using StreamSeq.Processing.Records;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// The console log's text formatters ("simple", "systemd", or any other but "json") with everything they print escaped
/// by <see cref="TerminalSafeText.Escape"/>: the message, each line of an exception, and scopes. Log messages carry text
/// from Kafka records (stream ids, reasons quoting a record, exception messages); a producer that puts an escape
/// sequence, a carriage return or a newline, or a bidirectional control in a stream id must not be able to drive the
/// operator's terminal or forge a line of the log. The arguments themselves are untouched (structured logging,
/// telemetry exporters and the "json" formatter, whose encoder escapes control characters, still get the exact text).
/// </summary>
internal sealed class TerminalSafeConsoleFormatter : ConsoleFormatter
{
    private readonly ConsoleFormatter inner;
    private readonly bool escapes;

    /// <summary>Wraps <paramref name="inner"/> under its own name, so <c>Logging:Console:FormatterName</c> picks it as before.</summary>
    public TerminalSafeConsoleFormatter(ConsoleFormatter inner)
        : base((inner ?? throw new ArgumentNullException(nameof(inner))).Name)
    {
        this.inner = inner;
        escapes = !string.Equals(inner.Name, ConsoleFormatterNames.Json, StringComparison.OrdinalIgnoreCase);
    }

    /// <inheritdoc />
    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        if (!escapes)
        {
            inner.Write(logEntry, scopeProvider, textWriter);
            return;
        }

        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }

        var text = Show(message, logEntry.Exception);
        var shown = new LogEntry<string>(logEntry.LogLevel, logEntry.Category, logEntry.EventId, text, null, static (s, _) => s);
        inner.Write(shown, scopeProvider is null ? null : new EscapedScopes(scopeProvider), textWriter);
    }

    /// <summary>
    /// The message escaped into one line, followed by the exception (as the formatters print it: its type, message and
    /// stack) one escaped line per line. The formatter indents or joins these lines as it does for any exception.
    /// </summary>
    internal static string Show(string? message, Exception? exception)
    {
        var shown = TerminalSafeText.Escape(message);
        if (exception is null)
        {
            return shown;
        }

        // Each message (of the exception and the ones inside it) escaped whole, so that its line ends cannot start a
        // line of their own; then every line of the text escaped, for anything else an exception prints.
        var text = exception.ToString();
        foreach (var said in Messages(exception).Distinct(StringComparer.Ordinal))
        {
            var escaped = TerminalSafeText.Escape(said);
            if (!ReferenceEquals(escaped, said))
            {
                text = text.Replace(said, escaped, StringComparison.Ordinal);
            }
        }

        var lines = text.ReplaceLineEndings("\n").Split('\n').Select(l => TerminalSafeText.Escape(l));
        var trace = string.Join(Environment.NewLine, lines);
        return shown.Length == 0 ? trace : shown + Environment.NewLine + trace;
    }

    private static IEnumerable<string> Messages(Exception exception)
    {
        var pending = new Stack<Exception>([exception]);
        var seen = 0;
        while (pending.TryPop(out var e) && seen++ < 64)
        {
            if (!string.IsNullOrEmpty(e.Message))
            {
                yield return e.Message;
            }

            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Push(inner);
                }
            }
            else if (e.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }
    }

    /// <summary>
    /// Replaces the console log's formatters registered so far (the host's defaults) with escaping ones of the same name.
    /// </summary>
    public static void Register(ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);
        var services = logging.Services;
        for (var i = 0; i < services.Count; i++)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType == typeof(ConsoleFormatter) && !descriptor.IsKeyedService && descriptor.ImplementationType is { } type)
            {
                services[i] = ServiceDescriptor.Describe(
                    typeof(ConsoleFormatter),
                    sp => new TerminalSafeConsoleFormatter((ConsoleFormatter)ActivatorUtilities.CreateInstance(sp, type)),
                    descriptor.Lifetime);
            }
        }
    }

    /// <summary>Scopes (request paths, ids) shown escaped, for formatters that print them (<c>IncludeScopes</c>).</summary>
    private sealed class EscapedScopes(IExternalScopeProvider scopes) : IExternalScopeProvider
    {
        public void ForEachScope<TState>(Action<object?, TState> callback, TState state) =>
            scopes.ForEachScope((scope, s) => callback(scope is null ? null : new EscapedScope(scope), s), state);

        public IDisposable Push(object? state) => scopes.Push(state);
    }

    private sealed class EscapedScope(object scope)
    {
        public override string ToString() => TerminalSafeText.Escape(scope.ToString());
    }
}
