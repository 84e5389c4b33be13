using System.Text.Json;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Detection;

/// <summary>
/// The <c>anomaly-detector</c> spec kind: an <see cref="AnomalyDetector"/> whose every setting is optional and
/// defaults to the shipped configuration (the embedded <c>anomaly-detector.json</c>), so
/// <c>{"name": "nab", "kind": "anomaly-detector"}</c> is the shipped detector.
/// </summary>
/// <remarks>
/// <c>seasonalPeriods</c> takes durations (<c>"P1D"</c>, <c>"PT12H"</c>, <c>"1d"</c>), converted to model time with the
/// spec's <c>timeUnit</c>, or plain numbers in model time units. Field names are the camelCase names of
/// <see cref="AnomalyDetectorOptions"/>'s properties. <c>thresholds</c> maps NAB profile names to
/// <c>{"threshold": t, "score": s}</c> as NAB's thresholds.json does; without it, a spec whose settings are all the
/// shipped ones gets the shipped thresholds, and any other spec none (thresholds belong to the settings they were
/// chosen for).
/// </remarks>
public sealed class AnomalyDetectorKind : IModelKind
{
    /// <inheritdoc />
    public string Kind => "anomaly-detector";

    /// <inheritdoc />
    public string Description => "Online anomaly detector for a scalar stream: a fixed-share mixture of robust level, seasonal-profile and marginal-density experts; the running tail probability of its surprisal gives 'anomalyScore' in [0, 1].";

    /// <inheritdoc />
    public SpecShape Fields { get; } = SpecShape.Of(
        "warmupLength", "levelDiscount", "varianceDiscount", "observationDegreesOfFreedom", "initialLevelVariance",
        "initialVarianceDegreesOfFreedom", "seasonalPeriods", "seasonalBinNoise", "initialBinVariance", "minimumSeasonalBins",
        "maximumSeasonalBins", "changepointHazard", "changepointMaxRunLength", "marginalBins", "marginalPriorWeight",
        "marginalBandwidthFactor", "switchingRate", "calibrationWarmup", "calibrationResolution", "calibrationMinimum",
        "calibrationMaximum", "tailFraction", "minimumTailScale", "tailModel", "evidenceWindow", "historyExponent", "scoreSpan",
        "suppressionWindow", "suppressionFactor", "quantizationFloor")
        .Nest("thresholds", SpecShape.MapOf(SpecShape.Of("threshold", "score")));

    /// <inheritdoc />
    public IEstimator Build(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new AnomalyDetector(ReadOptions(spec));
    }

    /// <summary>
    /// The shipped configuration (the embedded <c>anomaly-detector.json</c>) as a model spec: every setting written out,
    /// and the thresholds.
    /// </summary>
    public static ModelSpec ShippedSpec => AnomalyDetectorDefaults.Spec;

    /// <summary>Reads the detector settings of a spec (missing fields take the shipped defaults).</summary>
    public static AnomalyDetectorOptions ReadOptions(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var d = AnomalyDetectorOptions.Default;
        var unitText = spec.OptionalString("timeUnit");
        var unitSeconds = unitText is null ? 1.0 : ModelSpec.ParseDuration("timeUnit", unitText).TotalSeconds;
        var options = new AnomalyDetectorOptions
        {
            WarmupLength = spec.Integer("warmupLength", d.WarmupLength),
            LevelDiscount = spec.Number("levelDiscount", d.LevelDiscount),
            VarianceDiscount = spec.Number("varianceDiscount", d.VarianceDiscount),
            ObservationDegreesOfFreedom = spec.Number("observationDegreesOfFreedom", d.ObservationDegreesOfFreedom),
            InitialLevelVariance = spec.Number("initialLevelVariance", d.InitialLevelVariance),
            InitialVarianceDegreesOfFreedom = spec.Number("initialVarianceDegreesOfFreedom", d.InitialVarianceDegreesOfFreedom),
            SeasonalPeriods = ReadPeriods(spec, unitSeconds),
            SeasonalBinNoise = spec.Number("seasonalBinNoise", d.SeasonalBinNoise),
            InitialBinVariance = spec.Number("initialBinVariance", d.InitialBinVariance),
            MinimumSeasonalBins = spec.Integer("minimumSeasonalBins", d.MinimumSeasonalBins),
            MaximumSeasonalBins = spec.Integer("maximumSeasonalBins", d.MaximumSeasonalBins),
            ChangepointHazard = spec.Number("changepointHazard", d.ChangepointHazard),
            ChangepointMaxRunLength = spec.Integer("changepointMaxRunLength", d.ChangepointMaxRunLength),
            MarginalBins = spec.Integer("marginalBins", d.MarginalBins),
            MarginalPriorWeight = spec.Number("marginalPriorWeight", d.MarginalPriorWeight),
            MarginalBandwidthFactor = spec.Number("marginalBandwidthFactor", d.MarginalBandwidthFactor),
            SwitchingRate = spec.Number("switchingRate", d.SwitchingRate),
            CalibrationWarmup = spec.Integer("calibrationWarmup", d.CalibrationWarmup),
            CalibrationResolution = spec.Number("calibrationResolution", d.CalibrationResolution),
            CalibrationMinimum = spec.Number("calibrationMinimum", d.CalibrationMinimum),
            CalibrationMaximum = spec.Number("calibrationMaximum", d.CalibrationMaximum),
            TailFraction = spec.Number("tailFraction", d.TailFraction),
            MinimumTailScale = spec.Number("minimumTailScale", d.MinimumTailScale),
            TailModel = spec.OptionalString("tailModel") ?? d.TailModel,
            EvidenceWindow = spec.Integer("evidenceWindow", d.EvidenceWindow),
            HistoryExponent = spec.Number("historyExponent", d.HistoryExponent),
            ScoreSpan = spec.Number("scoreSpan", d.ScoreSpan),
            SuppressionWindow = spec.Integer("suppressionWindow", d.SuppressionWindow),
            SuppressionFactor = spec.Number("suppressionFactor", d.SuppressionFactor),
            QuantizationFloor = spec.Number("quantizationFloor", d.QuantizationFloor),
        };
        options = options with
        {
            Thresholds = ReadThresholds(spec) ?? (options.HasSameSettings(d) ? d.Thresholds : new Dictionary<string, DetectorThreshold>(StringComparer.Ordinal)),
        };
        try
        {
            options.Validate();
        }
        catch (ModelValidationException e) when (!string.IsNullOrEmpty(spec.Path))
        {
            throw e.WithPrefix(spec.Path);
        }

        return options;
    }

    /// <summary>
    /// Reads <c>thresholds</c>, NAB's thresholds.json entry for one detector (profile name to
    /// <c>{"threshold": t, "score": s}</c>); null when the spec has none.
    /// </summary>
    /// <exception cref="ModelValidationException">The field does not have that shape.</exception>
    public static IReadOnlyDictionary<string, DetectorThreshold>? ReadThresholds(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var profiles = spec.OptionalObject("thresholds");
        if (profiles is null)
        {
            return null;
        }

        var thresholds = new Dictionary<string, DetectorThreshold>(StringComparer.Ordinal);
        foreach (var profile in profiles.Element.EnumerateObject())
        {
            var entry = profiles.Object(profile.Name);
            thresholds[profile.Name] = new DetectorThreshold(entry.Number("threshold"), entry.Number("score"));
        }

        return thresholds;
    }

    private static double[] ReadPeriods(SpecReader spec, double unitSeconds)
    {
        const string Field = "seasonalPeriods";
        spec.Allow(Field);
        if (!spec.Element.TryGetProperty(Field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [.. AnomalyDetectorDefaults.SeasonalPeriods().Select(p => p.TotalSeconds / unitSeconds)];
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw spec.Error(Field, "must be an array of durations (\"P1D\") or numbers in model time units.");
        }

        var periods = new List<double>();
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            var path = $"{spec.FieldPath(Field)}[{i}]";
            switch (item.ValueKind)
            {
                case JsonValueKind.Number when item.TryGetDouble(out var number) && double.IsFinite(number) && number > 0:
                    periods.Add(number);
                    break;
                case JsonValueKind.String:
                    periods.Add(ModelSpec.ParseDuration(path, item.GetString()!).TotalSeconds / unitSeconds);
                    break;
                default:
                    throw new ModelValidationException(path, $"must be a duration such as \"P1D\" or a positive number of model time units, got {item.GetRawText()}.");
            }

            i++;
        }

        return [.. periods];
    }
}
