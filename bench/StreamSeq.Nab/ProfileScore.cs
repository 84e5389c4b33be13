namespace StreamSeq.Nab;

/// <summary>A detector's NAB result for one profile: the threshold, raw and normalised totals, per file and per category.</summary>
/// <param name="Profile">The cost profile.</param>
/// <param name="Threshold">Anomaly scores at or above it are detections.</param>
/// <param name="ThresholdOptimized">True when the threshold was chosen by sweeping this corpus; false when given.</param>
/// <param name="Score">Raw score summed over the files (NAB's "Totals" row).</param>
/// <param name="NullScore">Raw score of the null detector (never detects) on the corpus.</param>
/// <param name="PerfectScore">NAB's perfect score: number of windows times tpWeight.</param>
/// <param name="Counts">Row counts after probation summed over the files.</param>
/// <param name="Files">Per-file scores in corpus order.</param>
/// <param name="Categories">Per-category sums in category order.</param>
public sealed record ProfileScore(
    CostProfile Profile,
    double Threshold,
    bool ThresholdOptimized,
    double Score,
    double NullScore,
    double PerfectScore,
    DetectionCounts Counts,
    IReadOnlyList<FileScore> Files,
    IReadOnlyList<CategoryScore> Categories)
{
    /// <summary>NAB's reported score, 100 (S - S_null) / (S_perfect - S_null): 0 for the null detector, 100 for perfection.</summary>
    public double NormalizedScore => NabScorer.Normalize(Score, NullScore, PerfectScore);
}
