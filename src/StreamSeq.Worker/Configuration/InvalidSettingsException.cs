namespace StreamSeq.Worker.Configuration;

/// <summary>The worker's settings cannot start it: one line per problem, each naming the setting.</summary>
public sealed class InvalidSettingsException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InvalidSettingsException(IReadOnlyList<string> problems)
        : base(string.Join(" ", problems))
    {
        ArgumentNullException.ThrowIfNull(problems);
        Problems = problems;
    }

    /// <summary>Creates the exception for one problem.</summary>
    public InvalidSettingsException(string problem)
        : this([problem])
    {
    }

    /// <summary>Creates the exception without problems (for serializers and analyzers).</summary>
    public InvalidSettingsException()
        : this([])
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public InvalidSettingsException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>The problems, one line each.</summary>
    public IReadOnlyList<string> Problems { get; }
}
