namespace StreamSeq.Worker.Hosting;

/// <summary>
/// The worker cannot start for a reason found only once it talks to the broker (a changelog with too few partitions,
/// refused credentials, client settings librdkafka cannot use): reported as one line naming the setting, exit code
/// <see cref="WorkerExitCodes.CannotStart"/>.
/// </summary>
public sealed class WorkerStartException : Exception
{
    /// <summary>Creates the exception; the message names the setting.</summary>
    public WorkerStartException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public WorkerStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception (for serializers and analyzers).</summary>
    public WorkerStartException()
    {
    }
}
