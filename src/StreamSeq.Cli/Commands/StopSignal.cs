using System.Diagnostics;
using System.Runtime.InteropServices;

namespace StreamSeq.Cli.Commands;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM as a cancellation, for commands that run until stopped (<c>broker</c>, live <c>simulate</c>,
/// <c>read --follow</c>): they finish what they do (flush, close) and exit 0 instead of being killed by the signal. A
/// second signal while that stop is under way (a live <c>simulate</c> whose broker went away waits up to 10 s for its
/// acknowledgements) abandons it: one line on standard error, and the process ends as the signal ends any process
/// (exit code 130 or 143). A signal within <see cref="DuplicateWindow"/> of the first is taken as the same request
/// delivered twice (<c>dotnet run</c> and other launchers forward the signal a process group got to their child, which
/// got it too), not as a second one.
/// </summary>
/// <remarks>
/// These registrations are the only ones for the two signals in the process: System.CommandLine registers its own only
/// when <c>InvocationConfiguration.ProcessTerminationTimeout</c> is set, which <see cref="CliInvocation"/> leaves unset.
/// So leaving the second signal unhandled (<see cref="PosixSignalContext.Cancel"/> false) lets the runtime's default
/// action end the process by that signal, which the shell reports as 128 + its number, as it would without a handler.
/// </remarks>
internal sealed class StopSignal : IDisposable
{
    private readonly CancellationTokenSource stop;
    private readonly TextWriter stderr;
    private readonly PosixSignalRegistration interrupt;
    private readonly PosixSignalRegistration terminate;
    /// <summary>How long after the first stop signal another is taken as the same request delivered again.</summary>
    public static readonly TimeSpan DuplicateWindow = TimeSpan.FromSeconds(1);

    private long firstAt;

    private StopSignal(TextWriter stderr, CancellationToken outer)
    {
        this.stderr = stderr;
        stop = CancellationTokenSource.CreateLinkedTokenSource(outer);
        interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>Cancelled by Ctrl+C, SIGTERM or <c>outer</c>.</summary>
    public CancellationToken Token => stop.Token;

    /// <summary>Starts listening for the signals; <paramref name="stderr"/> gets the line a second signal writes.</summary>
    public static StopSignal Listen(TextWriter stderr, CancellationToken outer)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        return new(stderr, outer);
    }

    public void Dispose()
    {
        interrupt.Dispose();
        terminate.Dispose();
        stop.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        var now = Stopwatch.GetTimestamp();
        var first = Interlocked.CompareExchange(ref firstAt, now, 0);
        if (first == 0 || Stopwatch.GetElapsedTime(first, now) < DuplicateWindow)
        {
            // Handled: the command stops on its own, cleanly (a copy of the first request changes nothing).
            context.Cancel = true;
            stop.Cancel();
            return;
        }

        // Asked again while still stopping: not handled, so the runtime ends the process by this signal.
        stderr.WriteLine($"{(context.Signal == PosixSignal.SIGINT ? "SIGINT" : "SIGTERM")} again: clean stop abandoned.");
        stderr.Flush();
        context.Cancel = false;
    }
}
