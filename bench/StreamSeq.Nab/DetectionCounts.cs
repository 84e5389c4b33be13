namespace StreamSeq.Nab;

/// <summary>
/// Row counts after probation at one threshold: detected window rows (true positives), undetected rows outside
/// windows (true negatives), detected rows outside windows (false positives) and undetected window rows (false
/// negatives). NAB counts rows here, not windows.
/// </summary>
/// <param name="TruePositives">Detected rows inside windows.</param>
/// <param name="TrueNegatives">Undetected rows outside windows.</param>
/// <param name="FalsePositives">Detected rows outside windows.</param>
/// <param name="FalseNegatives">Undetected rows inside windows.</param>
public readonly record struct DetectionCounts(int TruePositives, int TrueNegatives, int FalsePositives, int FalseNegatives)
{
    /// <summary>Rows counted (all rows after probation).</summary>
    public int Total => TruePositives + TrueNegatives + FalsePositives + FalseNegatives;

    /// <summary>Adds two sets of counts.</summary>
    public static DetectionCounts operator +(DetectionCounts left, DetectionCounts right) =>
        new(left.TruePositives + right.TruePositives,
            left.TrueNegatives + right.TrueNegatives,
            left.FalsePositives + right.FalsePositives,
            left.FalseNegatives + right.FalseNegatives);

    /// <summary>Adds two sets of counts.</summary>
    public static DetectionCounts Add(DetectionCounts left, DetectionCounts right) => left + right;
}
