using Microsoft.Extensions.Logging;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.EndToEnd;

/// <summary>Keeps the worker's information and warning lines, so a scenario can show and check what a restore did.</summary>
internal sealed class CapturingLogger : ILogger<KafkaStreamWorker>
{
    private readonly List<string> lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (lines)
            {
                return [.. lines];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        lock (lines)
        {
            lines.Add($"{logLevel}: {formatter(state, exception)}");
        }
    }
}
