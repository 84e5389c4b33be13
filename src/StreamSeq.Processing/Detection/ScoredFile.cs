namespace StreamSeq.Processing.Detection;

/// <summary>One file scored by <see cref="AnomalyFileRunner.ScoreFolder"/>.</summary>
/// <param name="RelativePath">The data file relative to the data folder, "category/name.csv".</param>
/// <param name="OutputPath">The results file written.</param>
/// <param name="Rows">Rows scored.</param>
public sealed record ScoredFile(string RelativePath, string OutputPath, long Rows)
{
    /// <summary>Why the file was not scored (null when it was); no results file is written then.</summary>
    public string? Error { get; init; }

    /// <summary>True when the <see cref="Error"/> is that the results file could not be written (a full disk, a read-only folder).</summary>
    public bool WriteFailed { get; init; }
}
