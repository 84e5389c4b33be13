namespace StreamSeq.Nab;

/// <summary>The corpus score obtained when every anomaly score at or above <paramref name="Threshold"/> is a detection.</summary>
/// <param name="Threshold">The threshold (1.1 for "no detection", otherwise one of the detector's anomaly scores).</param>
/// <param name="Score">Raw NAB score summed over the corpus.</param>
/// <param name="Counts">Row counts after probation.</param>
public sealed record ThresholdScore(double Threshold, double Score, DetectionCounts Counts);
