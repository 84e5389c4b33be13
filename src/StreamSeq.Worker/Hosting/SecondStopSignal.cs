using System.Diagnostics;
using System.Runtime.InteropServices;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// The usual convention for a second stop signal: the first Ctrl+C (SIGINT), SIGTERM or SIGQUIT stops the worker
/// gracefully (the host's console lifetime commits the open transaction and leaves the group, for up to its shutdown
/// timeout); a second one while that stop is under way abandons it, with one line on standard error and exit code 130
/// (SIGINT), 143 (SIGTERM) or 131 (SIGQUIT), as the signal ends a process that does not handle it. The three are
/// counted together, as the console lifetime stops on any of them. A signal within <see cref="DuplicateWindow"/> of the
/// first is taken as the same stop request delivered twice, not as a second one.
/// </summary>
/// <remarks>
/// <para>
/// Every registration for a signal runs and any of them marking it handled suppresses the runtime's default action;
/// the console lifetime always does, so the second signal needs an explicit exit. The first one is left to the console
/// lifetime: this handler does not mark it, so a signal before the host listens still ends the process as before.
/// </para>
/// <para>
/// <see cref="Environment.Exit(int)"/> runs the process-exit handlers but does not wait for the host: the console
/// lifetime of .NET listens through signal registrations, not <c>ProcessExit</c>, so nothing there waits for the stop
/// under way (<c>SecondStopSignalTests</c> checks that the exit comes at once while a commit hangs).
/// </para>
/// <para>
/// One request can arrive twice: <c>dotnet run</c>, <c>timeout</c> and other launchers forward the stop signal they get
/// to the worker, so a signal sent to the whole process group (<c>kill -TERM -- -PGID</c>, a terminal's Ctrl+C) reaches
/// the worker directly and again through its launcher, a few milliseconds apart. Counted as a second request, that copy
/// would abandon every such graceful stop; a person asking again to stop now does so after more than a second.
/// </para>
/// <para>
/// Exactly-once holds as after SIGKILL: outputs, state changelog and input offsets go in one Kafka transaction, so one
/// the exit cuts short is never committed and its outputs stay invisible to read_committed consumers; the next owner
/// restores the committed state from the changelog and resumes where the last committed transaction ended.
/// </para>
/// </remarks>
public sealed class SecondStopSignal : IDisposable
{
    private readonly TextWriter stderr;
    private readonly PosixSignalRegistration interrupt;
    private readonly PosixSignalRegistration terminate;
    private readonly PosixSignalRegistration quit;
    /// <summary>How long after the first stop signal another is taken as the same request delivered again.</summary>
    public static readonly TimeSpan DuplicateWindow = TimeSpan.FromSeconds(1);

    private long firstAt;

    private SecondStopSignal(TextWriter stderr)
    {
        this.stderr = stderr;
        interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, OnSignal);
    }

    /// <summary>Starts counting SIGINT, SIGTERM and SIGQUIT; <paramref name="stderr"/> gets the line a second signal writes.</summary>
    public static SecondStopSignal Listen(TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        return new SecondStopSignal(stderr);
    }

    public void Dispose()
    {
        interrupt.Dispose();
        terminate.Dispose();
        quit.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        var now = Stopwatch.GetTimestamp();
        var first = Interlocked.CompareExchange(ref firstAt, now, 0);
        if (first == 0 || Stopwatch.GetElapsedTime(first, now) < DuplicateWindow)
        {
            // The first (the console lifetime stops the host gracefully), or a copy of it a launcher forwarded (the
            // console lifetime's second stop request changes nothing).
            return;
        }

        var (name, code) = context.Signal switch
        {
            PosixSignal.SIGINT => ("SIGINT", 130),
            PosixSignal.SIGQUIT => ("SIGQUIT", 131),
            _ => ("SIGTERM", 143),
        };
        stderr.WriteLine($"streamseq worker: {name} again: graceful stop abandoned, exiting now.");
        stderr.Flush();
        Environment.Exit(code);
    }
}
