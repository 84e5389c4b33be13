namespace StreamSeq.Nab.CrossValidation;

/// <summary>A held-out fold scored under one profile at a threshold chosen without it.</summary>
/// <param name="Profile">The profile's name.</param>
/// <param name="Threshold">The threshold, chosen on the training folds.</param>
/// <param name="Score">Raw NAB score summed over the fold's files.</param>
/// <param name="NullScore">The null detector's raw score over the fold.</param>
/// <param name="PerfectScore">The perfect raw score over the fold.</param>
/// <param name="Counts">Row counts after probation over the fold.</param>
public sealed record FoldProfileOutcome(string Profile, double Threshold, double Score, double NullScore, double PerfectScore, DetectionCounts Counts)
{
    /// <summary>The fold's normalised score, 100 (S - S_null) / (S_perfect - S_null).</summary>
    public double NormalizedScore => NabScorer.Normalize(Score, NullScore, PerfectScore);
}
