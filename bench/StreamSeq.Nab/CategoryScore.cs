namespace StreamSeq.Nab;

/// <summary>A detector's raw and normalised score over the files of one category.</summary>
/// <param name="Category">Category name, e.g. "realKnownCause".</param>
/// <param name="FileCount">Files in the category.</param>
/// <param name="WindowCount">Labelled windows in the category.</param>
/// <param name="Score">Sum of the files' raw scores.</param>
/// <param name="NullScore">Raw score of a detector that never detects, on these files.</param>
/// <param name="PerfectScore">Raw score of a detector that detects every window at its first row, on these files.</param>
public sealed record CategoryScore(string Category, int FileCount, int WindowCount, double Score, double NullScore, double PerfectScore)
{
    /// <summary>100 (S - S_null) / (S_perfect - S_null), or null where the category has no window to score.</summary>
    public double? NormalizedScore =>
        PerfectScore == NullScore ? null : NabScorer.Normalize(Score, NullScore, PerfectScore);
}
