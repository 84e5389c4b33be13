namespace StreamSeq.Nab;

/// <summary>A detector's NAB results for every profile.</summary>
/// <param name="DetectorName">The detector's name.</param>
/// <param name="Profiles">One result per profile, in the scorer's profile order.</param>
public sealed record DetectorScore(string DetectorName, IReadOnlyList<ProfileScore> Profiles)
{
    /// <summary>The result for a profile by name.</summary>
    /// <exception cref="KeyNotFoundException">No result for that profile.</exception>
    public ProfileScore ForProfile(string profileName) =>
        Profiles.FirstOrDefault(p => string.Equals(p.Profile.Name, profileName, StringComparison.Ordinal))
        ?? throw new KeyNotFoundException($"Detector '{DetectorName}' has no result for profile '{profileName}'.");
}
