using Microsoft.Extensions.Logging;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>
/// Loggers for in-process workers and the test bed's input producer: lines go to a file named by STREAMSEQ_TEST_LOG (for
/// diagnosing a failing integration test) and are discarded otherwise; STREAMSEQ_TEST_KAFKA_DEBUG adds their clients'
/// librdkafka debug lines.
/// </summary>
internal static class TestLog
{
    private static readonly string? Path = Environment.GetEnvironmentVariable("STREAMSEQ_TEST_LOG");
    private static readonly Lock Gate = new();

    /// <summary>
    /// librdkafka debug contexts (for example <c>broker,eos,topic,metadata</c>) named by STREAMSEQ_TEST_KAFKA_DEBUG for the
    /// clients of in-process workers and the test's input producer, whose lines then go to the same file; null when unset
    /// or when no log file is set.
    /// </summary>
    public static string? KafkaDebug { get; } = Environment.GetEnvironmentVariable("STREAMSEQ_TEST_KAFKA_DEBUG") is { Length: > 0 } debug && Path is not null ? debug : null;

    public static ILogger<T> For<T>(string name) => new FileLogger<T>(name);

    /// <summary>Writes one line under <paramref name="name"/> (a client of the test itself) when a log file is set.</summary>
    public static void Write(string name, string line)
    {
        if (Path is null)
        {
            return;
        }

        lock (Gate)
        {
            File.AppendAllText(Path, $"{DateTime.UtcNow:HH:mm:ss.fff} [{name}] {line}\n");
        }
    }

    private sealed class FileLogger<T>(string name) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => Path is not null && logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (Path is null)
            {
                return;
            }

            lock (Gate)
            {
                File.AppendAllText(Path, $"{DateTime.UtcNow:HH:mm:ss.fff} [{name}] {logLevel}: {formatter(state, exception)}{(exception is null ? string.Empty : " " + exception)}\n");
            }
        }
    }
}
