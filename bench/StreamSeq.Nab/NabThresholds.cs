using System.Text.Json;

namespace StreamSeq.Nab;

/// <summary>NAB's thresholds.json: per detector and profile, the threshold above which a score is a detection.</summary>
public sealed class NabThresholds
{
    private readonly Dictionary<string, Dictionary<string, double>> thresholds;

    private NabThresholds(Dictionary<string, Dictionary<string, double>> thresholds) => this.thresholds = thresholds;

    /// <summary>Detectors with thresholds.</summary>
    public IEnumerable<string> Detectors => thresholds.Keys;

    /// <summary>
    /// Reads a thresholds file: detector names to profile names to an object with a numeric "threshold"
    /// (NAB also stores the corpus "score" there; it is not needed for scoring).
    /// </summary>
    /// <exception cref="InvalidDataException">The file does not have that shape.</exception>
    public static NabThresholds Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{path}: expected an object of detectors.");
        }

        var all = new Dictionary<string, Dictionary<string, double>>(StringComparer.Ordinal);
        foreach (var detector in document.RootElement.EnumerateObject())
        {
            if (detector.Value.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{path}: detector '{detector.Name}' must map to an object of profiles.");
            }

            var byProfile = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var profile in detector.Value.EnumerateObject())
            {
                if (profile.Value.ValueKind != JsonValueKind.Object
                    || !profile.Value.TryGetProperty("threshold", out var value)
                    || value.ValueKind != JsonValueKind.Number)
                {
                    throw new InvalidDataException($"{path}: {detector.Name}.{profile.Name} has no numeric 'threshold'.");
                }

                byProfile[profile.Name] = value.GetDouble();
            }

            all[detector.Name] = byProfile;
        }

        return new NabThresholds(all);
    }

    /// <summary>The thresholds of one detector, keyed by profile name.</summary>
    /// <exception cref="KeyNotFoundException">The file has no entry for the detector.</exception>
    public IReadOnlyDictionary<string, double> For(string detectorName) =>
        thresholds.TryGetValue(detectorName, out var byProfile)
            ? byProfile
            : throw new KeyNotFoundException($"No thresholds for detector '{detectorName}'; optimise them instead.");

    /// <summary>Looks up one threshold.</summary>
    public bool TryGet(string detectorName, string profileName, out double threshold)
    {
        threshold = double.NaN;
        return thresholds.TryGetValue(detectorName, out var byProfile) && byProfile.TryGetValue(profileName, out threshold);
    }
}
