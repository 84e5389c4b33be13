using System.Text.Json;

namespace StreamSeq.Nab;

/// <summary>A NAB application profile: the weights of true positives, false positives and missed windows.</summary>
/// <remarks>
/// NAB's cost matrix maps tpWeight to <see cref="TruePositiveWeight"/>, fpWeight to <see cref="FalsePositiveWeight"/>
/// and fnWeight to <see cref="FalseNegativeWeight"/> (its tnWeight is unused by the scorer).
/// </remarks>
/// <param name="Name">Profile name as in profiles.json, e.g. "standard".</param>
/// <param name="TruePositiveWeight">Reward of a window detected at its first row (tpWeight).</param>
/// <param name="FalsePositiveWeight">Cost of a detection far from any preceding window (fpWeight).</param>
/// <param name="FalseNegativeWeight">Cost of a window without any detection (fnWeight).</param>
public sealed record CostProfile(string Name, double TruePositiveWeight, double FalsePositiveWeight, double FalseNegativeWeight)
{
    /// <summary>NAB's standard profile (tp 1, fp 0.11, fn 1).</summary>
    public static CostProfile Standard { get; } = new("standard", 1.0, 0.11, 1.0);

    /// <summary>NAB's reward_low_FP_rate profile (tp 1, fp 0.22, fn 1).</summary>
    public static CostProfile RewardLowFalsePositiveRate { get; } = new("reward_low_FP_rate", 1.0, 0.22, 1.0);

    /// <summary>NAB's reward_low_FN_rate profile (tp 1, fp 0.11, fn 2).</summary>
    public static CostProfile RewardLowFalseNegativeRate { get; } = new("reward_low_FN_rate", 1.0, 0.11, 2.0);

    /// <summary>The three NAB profiles in the order of NAB's profiles.json.</summary>
    public static IReadOnlyList<CostProfile> NabProfiles { get; } =
        [Standard, RewardLowFalsePositiveRate, RewardLowFalseNegativeRate];

    /// <summary>
    /// Reads a NAB profiles.json: an object of profile names, each with a "CostMatrix" holding tpWeight, fpWeight
    /// and fnWeight. Profiles keep the file's order.
    /// </summary>
    /// <param name="path">Path of the profiles file.</param>
    /// <exception cref="InvalidDataException">A profile lacks a weight or a weight is negative or not finite.</exception>
    public static IReadOnlyList<CostProfile> Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{path}: expected a JSON object of profiles.");
        }

        var profiles = new List<CostProfile>();
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (!property.Value.TryGetProperty("CostMatrix", out var matrix) || matrix.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{path}: profile '{property.Name}' has no CostMatrix object.");
            }

            profiles.Add(new CostProfile(
                property.Name,
                ReadWeight(path, property.Name, matrix, "tpWeight"),
                ReadWeight(path, property.Name, matrix, "fpWeight"),
                ReadWeight(path, property.Name, matrix, "fnWeight")));
        }

        if (profiles.Count == 0)
        {
            throw new InvalidDataException($"{path}: no profiles.");
        }

        return profiles;
    }

    private static double ReadWeight(string path, string profile, JsonElement matrix, string name)
    {
        if (!matrix.TryGetProperty(name, out var element) || element.ValueKind != JsonValueKind.Number)
        {
            throw new InvalidDataException($"{path}: profile '{profile}' has no numeric CostMatrix.{name}.");
        }

        var value = element.GetDouble();
        if (!double.IsFinite(value) || value < 0)
        {
            throw new InvalidDataException($"{path}: profile '{profile}' has CostMatrix.{name} = {value}; weights must be finite and non-negative.");
        }

        return value;
    }
}
