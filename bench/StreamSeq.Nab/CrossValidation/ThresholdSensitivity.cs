namespace StreamSeq.Nab.CrossValidation;

/// <summary>
/// The shipped candidate's score when every threshold is moved by <paramref name="Shift"/>: how much a threshold that
/// transfers imperfectly (chosen on other files) costs.
/// </summary>
/// <param name="Profile">The profile's name.</param>
/// <param name="Shift">Added to every threshold (the one fitted on all files, and each fold's fitted on the others).</param>
/// <param name="InSample">Normalised score on every file at the all-files threshold plus the shift.</param>
/// <param name="CrossValidatedMean">Mean over held-out folds of their normalised scores at their fitted thresholds plus the shift.</param>
/// <param name="CrossValidatedPooled">The same, pooled over the folds.</param>
public sealed record ThresholdSensitivity(string Profile, double Shift, double InSample, double CrossValidatedMean, double CrossValidatedPooled);
