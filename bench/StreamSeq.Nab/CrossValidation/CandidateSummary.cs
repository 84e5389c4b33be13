namespace StreamSeq.Nab.CrossValidation;

/// <summary>One candidate's selection criterion over all folds, beside its in-sample score.</summary>
/// <param name="Candidate">The candidate's name.</param>
/// <param name="Pooled">Pooled cross-validated score on the selection profile (the criterion).</param>
/// <param name="Mean">Mean of the folds' cross-validated scores on the selection profile.</param>
/// <param name="StandardError">Standard error of that mean (the folds' standard deviation over the square root of their number).</param>
/// <param name="InSample">Score on the selection profile with the threshold fitted on every file.</param>
public sealed record CandidateSummary(string Candidate, double Pooled, double Mean, double StandardError, double InSample);
