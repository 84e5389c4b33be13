using System.Text.Json;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Detection;

/// <summary>
/// The detector's shipped configuration: the model spec <c>anomaly-detector.json</c> beside this file, embedded in the
/// assembly. It is the one place the defaults live: <see cref="AnomalyDetectorOptions"/>' initial values, the
/// <c>anomaly-detector</c> kind's defaults and the thresholds <c>streamseq detect</c> ships all come from it.
/// </summary>
internal static class AnomalyDetectorDefaults
{
    /// <summary>The embedded resource's name.</summary>
    internal const string ResourceName = "StreamSeq.Estimation.Detection.anomaly-detector.json";

    private static readonly Lazy<ModelSpec> Shipped = new(Load);

    /// <summary>The shipped configuration as a model spec.</summary>
    internal static ModelSpec Spec => Shipped.Value;

    /// <summary>A numeric setting.</summary>
    /// <exception cref="ModelValidationException">The file lacks the setting (every setting must be written out).</exception>
    internal static double Number(string name) => Spec.Reader().Number(name);

    /// <summary>An integer setting.</summary>
    internal static int Integer(string name) => Spec.Reader().Integer(name);

    /// <summary>A text setting.</summary>
    internal static string Text(string name) => Spec.Reader().String(name);

    /// <summary>The seasonal periods as durations.</summary>
    internal static IReadOnlyList<TimeSpan> SeasonalPeriods()
    {
        var periods = new List<TimeSpan>();
        foreach (var item in Spec.Json.GetProperty("seasonalPeriods").EnumerateArray())
        {
            periods.Add(ModelSpec.ParseDuration("seasonalPeriods", item.GetString()!));
        }

        return periods;
    }

    /// <summary>The shipped thresholds, by NAB profile name.</summary>
    internal static IReadOnlyDictionary<string, DetectorThreshold> Thresholds() =>
        AnomalyDetectorKind.ReadThresholds(Spec.Reader()) ?? throw new ModelValidationException("thresholds", $"{ResourceName} must hold the shipped thresholds.");

    private static ModelSpec Load()
    {
        using var stream = typeof(AnomalyDetectorDefaults).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from {typeof(AnomalyDetectorDefaults).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return ModelSpec.Parse(reader.ReadToEnd(), ResourceName);
    }
}
