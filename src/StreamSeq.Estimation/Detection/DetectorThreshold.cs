namespace StreamSeq.Estimation.Detection;

/// <summary>
/// An alert threshold on the anomaly score for one NAB cost profile, as NAB's <c>config/thresholds.json</c> holds it:
/// scores at or above <see cref="Threshold"/> are detections; <see cref="Score"/> is the raw NAB score the threshold
/// obtained on the files it was chosen on.
/// </summary>
/// <param name="Threshold">The anomaly-score threshold.</param>
/// <param name="Score">The raw NAB score at that threshold on the files it was chosen on.</param>
public sealed record DetectorThreshold(double Threshold, double Score);
