namespace StreamSeq.Nab.CrossValidation;

/// <summary>The outcome of <see cref="CrossValidator.Run"/>.</summary>
/// <param name="Scheme">The fold scheme's description.</param>
/// <param name="SelectionProfile">The profile whose cross-validated score chooses the candidate.</param>
/// <param name="Nested">
/// The honest estimate: for every fold, the candidate chosen by cross-validation on the other folds alone and the
/// thresholds optimised on the other folds alone, scored on the fold.
/// </param>
/// <param name="Shipped">The candidate chosen by cross-validation on every fold (the one to ship).</param>
/// <param name="ShippedFolds">
/// The shipped candidate with only the thresholds cross-validated. It was chosen with every fold, so when there are
/// several candidates this is optimistic; <paramref name="Nested"/> is not.
/// </param>
/// <param name="InSample">The shipped candidate at the thresholds optimised on every file (the thresholds to ship), per profile.</param>
/// <param name="Candidates">Every candidate's criterion over all folds and in-sample score, in candidate order.</param>
/// <param name="OneStandardError">True when selection followed the one-standard-error rule.</param>
/// <param name="Criterion">What candidates were judged by inside the training folds.</param>
/// <param name="Sensitivity">The shipped candidate's in-sample and cross-validated scores with every threshold moved by each of <see cref="CrossValidator.SensitivityShifts"/>, per profile.</param>
/// <param name="Bands">Per profile, the thresholds around the shipped one where the in-sample score stays near its value there.</param>
public sealed record CrossValidationResult(
    string Scheme,
    string SelectionProfile,
    CrossValidatedScores Nested,
    string Shipped,
    CrossValidatedScores ShippedFolds,
    IReadOnlyList<ProfileScore> InSample,
    IReadOnlyList<CandidateSummary> Candidates,
    bool OneStandardError,
    SelectionCriterion Criterion,
    IReadOnlyList<ThresholdSensitivity> Sensitivity,
    IReadOnlyList<ThresholdBand> Bands);
