namespace StreamSeq.Nab.CrossValidation;

/// <summary>One held-out fold: the candidate and thresholds chosen on the other folds, and the fold's scores.</summary>
/// <param name="Fold">The fold's name.</param>
/// <param name="FileCount">Files in the fold.</param>
/// <param name="WindowCount">Labelled windows in the fold.</param>
/// <param name="Candidate">The candidate chosen without the fold.</param>
/// <param name="Profiles">The fold's result per profile, in the scorer's profile order.</param>
public sealed record FoldOutcome(string Fold, int FileCount, int WindowCount, string Candidate, IReadOnlyList<FoldProfileOutcome> Profiles)
{
    /// <summary>The result for a profile by name.</summary>
    /// <exception cref="KeyNotFoundException">No result for that profile.</exception>
    public FoldProfileOutcome ForProfile(string profile) =>
        Profiles.FirstOrDefault(p => string.Equals(p.Profile, profile, StringComparison.Ordinal))
        ?? throw new KeyNotFoundException($"Fold '{Fold}' has no result for profile '{profile}'.");
}
