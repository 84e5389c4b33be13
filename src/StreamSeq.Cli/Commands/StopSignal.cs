using System.Runtime.InteropServices;

namespace StreamSeq.Cli.Commands;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM as a cancellation, for commands that run until stopped (<c>broker</c>, live <c>simulate</c>,
/// <c>read --follow</c>): they finish what they do (flush, close) and exit 0 instead of being killed by the signal.
/// </summary>
internal sealed class StopSignal : IDisposable
{
    private readonly CancellationTokenSource stop;
    private readonly PosixSignalRegistration interrupt;
    private readonly PosixSignalRegistration terminate;

    private StopSignal(CancellationToken outer)
    {
        stop = CancellationTokenSource.CreateLinkedTokenSource(outer);
        interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    /// <summary>Cancelled by Ctrl+C, SIGTERM or <c>outer</c>.</summary>
    public CancellationToken Token => stop.Token;

    /// <summary>Starts listening for the signals.</summary>
    public static StopSignal Listen(CancellationToken outer) => new(outer);

    public void Dispose()
    {
        interrupt.Dispose();
        terminate.Dispose();
        stop.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        // Handled: the command stops on its own, cleanly.
        context.Cancel = true;
        stop.Cancel();
    }
}
