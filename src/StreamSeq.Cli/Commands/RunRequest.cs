namespace StreamSeq.Cli.Commands;

/// <summary>What <c>streamseq run</c> was asked to do.</summary>
internal sealed class RunRequest
{
    public required string ModelPath { get; init; }

    public required string InputPath { get; init; }

    public required string OutputPath { get; init; }

    public int Lag { get; init; }

    public int Horizon { get; init; }

    public bool Smooth { get; init; }

    /// <summary>Allowed lateness in model time units.</summary>
    public double Lateness { get; init; }

    /// <summary>Largest skew ahead of a stream's newest time, in model time units (null: no bound).</summary>
    public double? MaxTimeSkew { get; init; }

    /// <summary>CSV columns that hold control inputs.</summary>
    public IReadOnlyCollection<string> ControlColumns { get; init; } = [];

    public bool FailFast { get; init; }

    public string? DeadLetterPath { get; init; }

    /// <summary>Where to write the learned per-stream values at the end (null: not written).</summary>
    public string? ParametersOutPath { get; init; }

    /// <summary>A table of learned values new streams start from (null: the spec's values).</summary>
    public string? ParametersInPath { get; init; }
}
