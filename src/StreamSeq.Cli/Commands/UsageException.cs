namespace StreamSeq.Cli.Commands;

/// <summary>A command-line mistake found after parsing (options that contradict each other); exits with code 2.</summary>
internal sealed class UsageException : Exception
{
    public UsageException()
        : base("invalid command line")
    {
    }

    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
