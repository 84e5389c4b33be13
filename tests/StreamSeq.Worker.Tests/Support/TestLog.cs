using Microsoft.Extensions.Logging;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>
/// Loggers for in-process workers: lines go to a file named by STREAMSEQ_TEST_LOG (for diagnosing a failing
/// integration test) and are discarded otherwise.
/// </summary>
internal static class TestLog
{
    private static readonly string? Path = Environment.GetEnvironmentVariable("STREAMSEQ_TEST_LOG");
    private static readonly Lock Gate = new();

    public static ILogger<T> For<T>(string name) => new FileLogger<T>(name);

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
