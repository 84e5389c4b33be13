namespace StreamSeq.Worker.Hosting;

/// <summary>The worker's exit codes (0: stopped when asked to).</summary>
public static class WorkerExitCodes
{
    /// <summary>The processing loop stopped on a fatal error while running (for example a fenced producer); restart it.</summary>
    public const int Fatal = 1;

    /// <summary>
    /// The worker could not start: invalid settings, an address it cannot listen on, credentials the broker refused.
    /// One line on standard error names the setting; restarting without changing it fails the same way.
    /// </summary>
    public const int CannotStart = 2;
}
