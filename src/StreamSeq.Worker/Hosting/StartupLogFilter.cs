namespace StreamSeq.Worker.Hosting;

/// <summary>
/// Keeps the generic host's own error report of a failed start (the exception with its stack) out of the log while
/// the worker starts: Program reports such a failure itself, as one line naming the setting.
/// </summary>
public sealed class StartupLogFilter
{
    /// <summary>The category the filter applies to (the generic host's own log).</summary>
    public const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    private volatile bool starting = true;

    /// <summary>The filter for <c>ILoggingBuilder.AddFilter(HostCategory, ...)</c>: information and above, except errors while starting.</summary>
    public bool Allows(LogLevel level) => level >= LogLevel.Information && !(starting && level >= LogLevel.Error);

    /// <summary>The host has started: its reports pass again.</summary>
    public void Started() => starting = false;
}
