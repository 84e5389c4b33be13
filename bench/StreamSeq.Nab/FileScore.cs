namespace StreamSeq.Nab;

/// <summary>A detector's NAB score on one data file at one threshold (a row of NAB's *_scores.csv).</summary>
/// <param name="RelativePath">The file, "category/name.csv".</param>
/// <param name="Category">The file's category.</param>
/// <param name="Threshold">Anomaly scores at or above it are detections.</param>
/// <param name="Score">Sum of window rewards (earliest detection, or -fnWeight) and false-positive costs.</param>
/// <param name="Counts">Row counts after probation.</param>
/// <param name="RowCount">All rows of the file (NAB's Total_Count column).</param>
public sealed record FileScore(string RelativePath, string Category, double Threshold, double Score, DetectionCounts Counts, int RowCount);
