using System.Text.Json;
using System.Text.Json.Nodes;
using StreamSeq.Estimation.Detection;

namespace StreamSeq.Processing.Detection;

/// <summary>
/// NAB's thresholds file (<c>config/thresholds.json</c> in NAB): detector name to profile name to
/// <c>{"threshold": t, "score": s}</c>. NAB's scorer run with <c>--score</c> reads a detector's thresholds from it instead
/// of optimising them on the data it scores.
/// </summary>
public static class NabThresholdsFile
{
    /// <summary>The file's name, as in NAB.</summary>
    public const string FileName = "thresholds.json";

    /// <summary>
    /// Writes <paramref name="thresholds"/> as <paramref name="detectorName"/>'s entry of the thresholds file at
    /// <paramref name="path"/>. An existing file keeps its other detectors' entries; one that is not a JSON object of
    /// detectors is left alone and reported.
    /// </summary>
    /// <exception cref="InvalidDataException">The existing file is not a thresholds file.</exception>
    public static void Write(string path, string detectorName, IReadOnlyDictionary<string, DetectorThreshold> thresholds)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(detectorName);
        ArgumentNullException.ThrowIfNull(thresholds);
        var document = new JsonObject();
        if (File.Exists(path))
        {
            try
            {
                document = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                    ?? throw new InvalidDataException($"{path}: exists and is not a JSON object of detectors; not overwritten.");
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}: exists and is not valid JSON ({e.Message}); not overwritten.", e);
            }
        }

        var entry = new JsonObject();
        foreach (var (profile, threshold) in thresholds)
        {
            entry[profile] = new JsonObject
            {
                ["threshold"] = threshold.Threshold,
                ["score"] = threshold.Score,
            };
        }

        document[detectorName] = entry;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllText(path, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
