using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Detection;

/// <summary>
/// Validated settings of an <see cref="AnomalyDetector"/>. Every default comes from the detector's shipped
/// configuration, the embedded <c>anomaly-detector.json</c> beside this file, chosen by cross-validation on the NAB
/// development half (docs/nab-report.md says how).
/// </summary>
/// <remarks>
/// Symbols used in the <see cref="AnomalyDetector"/> remarks: δ_μ = <see cref="LevelDiscount"/>,
/// β = <see cref="VarianceDiscount"/>, ν = <see cref="ObservationDegreesOfFreedom"/>,
/// q_s = <see cref="SeasonalBinNoise"/>, ε = <see cref="SwitchingRate"/>, γ = <see cref="HistoryExponent"/>,
/// L = <see cref="SuppressionWindow"/>, κ = <see cref="SuppressionFactor"/>.
/// </remarks>
public sealed record AnomalyDetectorOptions
{
    /// <summary>The shipped configuration (time unit one second, so the seasonal periods are in seconds), with its thresholds.</summary>
    public static AnomalyDetectorOptions Default { get; } = new() { Thresholds = AnomalyDetectorDefaults.Thresholds() };

    /// <summary>Observed rows used to initialise the level, the noise scale and the sampling interval (W).</summary>
    public int WarmupLength { get; init; } = AnomalyDetectorDefaults.Integer("warmupLength");

    /// <summary>Discount δ_μ of the level's information per typical sampling interval (0 &lt; δ_μ ≤ 1).</summary>
    public double LevelDiscount { get; init; } = AnomalyDetectorDefaults.Number("levelDiscount");

    /// <summary>Discount β of the observation-noise evidence per observation (0 &lt; β ≤ 1).</summary>
    public double VarianceDiscount { get; init; } = AnomalyDetectorDefaults.Number("varianceDiscount");

    /// <summary>Degrees of freedom ν of the Student-t observation noise of the level and seasonal experts.</summary>
    public double ObservationDegreesOfFreedom { get; init; } = AnomalyDetectorDefaults.Number("observationDegreesOfFreedom");

    /// <summary>Prior variance of the level at the end of the warm-up, in units of the noise variance.</summary>
    public double InitialLevelVariance { get; init; } = AnomalyDetectorDefaults.Number("initialLevelVariance");

    /// <summary>Prior degrees of freedom of the noise-variance estimate at the end of the warm-up.</summary>
    public double InitialVarianceDegreesOfFreedom { get; init; } = AnomalyDetectorDefaults.Number("initialVarianceDegreesOfFreedom");

    /// <summary>
    /// Seasonal periods P in model time units (default a day and a week with a one-second time unit). A period gets
    /// a seasonal-profile expert when it holds between <see cref="MinimumSeasonalBins"/> and
    /// <see cref="MaximumSeasonalBins"/> typical sampling intervals.
    /// </summary>
    public IReadOnlyList<double> SeasonalPeriods { get; init; } = [.. AnomalyDetectorDefaults.SeasonalPeriods().Select(p => p.TotalSeconds)];

    /// <summary>Random-walk variance q_s of one seasonal bin per period, in units of the noise variance.</summary>
    public double SeasonalBinNoise { get; init; } = AnomalyDetectorDefaults.Number("seasonalBinNoise");

    /// <summary>Variance of a seasonal bin after its first observation, in units of the noise variance.</summary>
    public double InitialBinVariance { get; init; } = AnomalyDetectorDefaults.Number("initialBinVariance");

    /// <summary>Fewest sampling intervals per period for a seasonal expert.</summary>
    public int MinimumSeasonalBins { get; init; } = AnomalyDetectorDefaults.Integer("minimumSeasonalBins");

    /// <summary>Most sampling intervals per period for a seasonal expert (sizes the per-stream state).</summary>
    public int MaximumSeasonalBins { get; init; } = AnomalyDetectorDefaults.Integer("maximumSeasonalBins");

    /// <summary>
    /// Per-row changepoint probability of an optional Bayesian online changepoint (BOCPD) expert on the standardised
    /// values; 0 leaves it out.
    /// </summary>
    public double ChangepointHazard { get; init; } = AnomalyDetectorDefaults.Number("changepointHazard");

    /// <summary>Largest run length the changepoint expert keeps.</summary>
    public int ChangepointMaxRunLength { get; init; } = AnomalyDetectorDefaults.Integer("changepointMaxRunLength");

    /// <summary>Bins of the histogram behind the marginal-density expert.</summary>
    public int MarginalBins { get; init; } = AnomalyDetectorDefaults.Integer("marginalBins");

    /// <summary>Weight of the broad base measure in the marginal-density expert, in observations.</summary>
    public double MarginalPriorWeight { get; init; } = AnomalyDetectorDefaults.Number("marginalPriorWeight");

    /// <summary>Kernel bandwidth factor of the marginal density (Silverman's 0.9 · IQR/1.349 · n^(−1/5)).</summary>
    public double MarginalBandwidthFactor { get; init; } = AnomalyDetectorDefaults.Number("marginalBandwidthFactor");

    /// <summary>Fixed-share switching rate ε between experts per observation.</summary>
    public double SwitchingRate { get; init; } = AnomalyDetectorDefaults.Number("switchingRate");

    /// <summary>Surprisal values seen before tail probabilities are reported.</summary>
    public int CalibrationWarmup { get; init; } = AnomalyDetectorDefaults.Integer("calibrationWarmup");

    /// <summary>Resolution of the surprisal histogram behind the tail probability, in nats.</summary>
    public double CalibrationResolution { get; init; } = AnomalyDetectorDefaults.Number("calibrationResolution");

    /// <summary>Lowest standardised surprisal the histogram resolves (lower values share its first bin).</summary>
    public double CalibrationMinimum { get; init; } = AnomalyDetectorDefaults.Number("calibrationMinimum");

    /// <summary>Highest standardised surprisal the histogram resolves (higher values share its last bin).</summary>
    public double CalibrationMaximum { get; init; } = AnomalyDetectorDefaults.Number("calibrationMaximum");

    /// <summary>Fraction of the surprisal history whose mean excess sets the exponential tail beyond the maximum.</summary>
    public double TailFraction { get; init; } = AnomalyDetectorDefaults.Number("tailFraction");

    /// <summary>Smallest exponential tail scale, in nats.</summary>
    public double MinimumTailScale { get; init; } = AnomalyDetectorDefaults.Number("minimumTailScale");

    /// <summary>
    /// How the surprisal's tail probability is read: "empirical" (ranks among past surprisals, exponential only beyond
    /// the largest) or "exceedance" (exponential with the mean excess as scale above the (1 − <see cref="TailFraction"/>)
    /// quantile: peaks over a threshold).
    /// </summary>
    public string TailModel { get; init; } = AnomalyDetectorDefaults.Text("tailModel");

    /// <summary>
    /// Rows W of the short-horizon evidence channel (the Gaussian tail of the mean of the last W calibrated raw scores
    /// against its long-run distribution, combined with the per-reading tail by Bonferroni); 0 leaves it out.
    /// </summary>
    public int EvidenceWindow { get; init; } = AnomalyDetectorDefaults.Integer("evidenceWindow");

    /// <summary>Exponent γ of the history-size correction q = p · n^γ of the tail probability.</summary>
    public double HistoryExponent { get; init; } = AnomalyDetectorDefaults.Number("historyExponent");

    /// <summary>Nats of −ln q that span the anomaly score from 0.5 (q = 1) to 1.</summary>
    public double ScoreSpan { get; init; } = AnomalyDetectorDefaults.Number("scoreSpan");

    /// <summary>Rows L over which a score that is not a new maximum is suppressed (0 disables suppression).</summary>
    public int SuppressionWindow { get; init; } = AnomalyDetectorDefaults.Integer("suppressionWindow");

    /// <summary>Factor κ applied to a score that does not exceed the largest of the previous L rows.</summary>
    public double SuppressionFactor { get; init; } = AnomalyDetectorDefaults.Number("suppressionFactor");

    /// <summary>Fraction of the squared quantisation step (smallest non-zero change seen) used as a noise-variance floor.</summary>
    public double QuantizationFloor { get; init; } = AnomalyDetectorDefaults.Number("quantizationFloor");

    /// <summary>
    /// Alert thresholds on the anomaly score by NAB profile name ("standard", "reward_low_FP_rate",
    /// "reward_low_FN_rate"). They belong to the settings they were chosen for: the shipped configuration carries the
    /// shipped ones; options built in code start with none.
    /// </summary>
    public IReadOnlyDictionary<string, DetectorThreshold> Thresholds { get; init; } = new Dictionary<string, DetectorThreshold>(StringComparer.Ordinal);

    /// <summary>True when every detector setting (everything but <see cref="Thresholds"/>) equals <paramref name="other"/>'s.</summary>
    public bool HasSameSettings(AnomalyDetectorOptions other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var property in typeof(AnomalyDetectorOptions).GetProperties())
        {
            if (property.Name == nameof(Thresholds) || property.GetMethod is not { IsStatic: false })
            {
                continue;
            }

            var mine = property.GetValue(this);
            var theirs = property.GetValue(other);
            var same = mine is IEnumerable<double> list && theirs is IEnumerable<double> otherList
                ? list.SequenceEqual(otherList)
                : Equals(mine, theirs);
            if (!same)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Checks every setting; errors name the spec field.</summary>
    /// <exception cref="ModelValidationException">A setting is out of range.</exception>
    public void Validate()
    {
        AtLeast("warmupLength", WarmupLength, 3);
        Fraction("levelDiscount", LevelDiscount);
        Fraction("varianceDiscount", VarianceDiscount);
        Positive("observationDegreesOfFreedom", ObservationDegreesOfFreedom);
        Positive("initialLevelVariance", InitialLevelVariance);
        Numerics.Validate.AtMostMaxVariance("initialLevelVariance", InitialLevelVariance);
        Positive("initialVarianceDegreesOfFreedom", InitialVarianceDegreesOfFreedom);
        ArgumentNullException.ThrowIfNull(SeasonalPeriods);
        if (SeasonalPeriods.Count > 4)
        {
            throw new ModelValidationException("seasonalPeriods", $"at most 4 periods are supported, got {SeasonalPeriods.Count}.");
        }

        for (var i = 0; i < SeasonalPeriods.Count; i++)
        {
            Positive($"seasonalPeriods[{i}]", SeasonalPeriods[i]);
        }

        NonNegative("seasonalBinNoise", SeasonalBinNoise);
        Numerics.Validate.AtMostMaxVariance("seasonalBinNoise", SeasonalBinNoise);
        Positive("initialBinVariance", InitialBinVariance);
        Numerics.Validate.AtMostMaxVariance("initialBinVariance", InitialBinVariance);
        AtLeast("minimumSeasonalBins", MinimumSeasonalBins, 2);
        AtLeast("maximumSeasonalBins", MaximumSeasonalBins, MinimumSeasonalBins);
        if (MaximumSeasonalBins > 100_000)
        {
            throw new ModelValidationException("maximumSeasonalBins", $"must be at most 100000 (it sizes every stream's state), got {MaximumSeasonalBins}.");
        }

        if (!(ChangepointHazard >= 0.0 && ChangepointHazard < 1.0))
        {
            throw new ModelValidationException("changepointHazard", $"must be in [0, 1) (0 leaves the changepoint expert out), got {ChangepointHazard}.");
        }

        AtLeast("changepointMaxRunLength", ChangepointMaxRunLength, 1);
        AtLeast("marginalBins", MarginalBins, 8);
        if (MarginalBins > 100_000)
        {
            throw new ModelValidationException("marginalBins", $"must be at most 100000 (it sizes every stream's state), got {MarginalBins}.");
        }

        if (MarginalBins % 2 != 0)
        {
            throw new ModelValidationException("marginalBins", $"must be even (the histogram halves its resolution by merging pairs), got {MarginalBins}.");
        }

        Positive("marginalPriorWeight", MarginalPriorWeight);
        Positive("marginalBandwidthFactor", MarginalBandwidthFactor);
        if (!(SwitchingRate > 0.0 && SwitchingRate < 1.0))
        {
            throw new ModelValidationException("switchingRate", $"must be in (0, 1), got {SwitchingRate}.");
        }

        AtLeast("calibrationWarmup", CalibrationWarmup, 1);
        Positive("calibrationResolution", CalibrationResolution);
        if (!double.IsFinite(CalibrationMinimum) || !(CalibrationMaximum > CalibrationMinimum) || !double.IsFinite(CalibrationMaximum))
        {
            throw new ModelValidationException("calibrationMaximum", $"must be finite and above calibrationMinimum ({CalibrationMinimum}), got {CalibrationMaximum}.");
        }

        if ((CalibrationMaximum - CalibrationMinimum) / CalibrationResolution > 100_000)
        {
            throw new ModelValidationException("calibrationResolution", "gives more than 100000 histogram bins over the calibration range; use a coarser resolution.");
        }

        if (!(TailFraction > 0.0 && TailFraction < 1.0))
        {
            throw new ModelValidationException("tailFraction", $"must be in (0, 1), got {TailFraction}.");
        }

        Positive("minimumTailScale", MinimumTailScale);
        if (TailModel is not ("empirical" or "exceedance"))
        {
            throw new ModelValidationException("tailModel", $"must be \"empirical\" or \"exceedance\", got \"{TailModel}\".");
        }

        AtLeast("evidenceWindow", EvidenceWindow, 0);
        if (EvidenceWindow > 10_000)
        {
            throw new ModelValidationException("evidenceWindow", $"must be at most 10000 (it sizes every stream's state), got {EvidenceWindow}.");
        }

        NonNegative("historyExponent", HistoryExponent);
        Positive("scoreSpan", ScoreSpan);
        AtLeast("suppressionWindow", SuppressionWindow, 0);
        if (SuppressionWindow > 10_000)
        {
            throw new ModelValidationException("suppressionWindow", $"must be at most 10000 (it sizes every stream's state), got {SuppressionWindow}.");
        }

        if (!(SuppressionFactor >= 0.0 && SuppressionFactor <= 1.0))
        {
            throw new ModelValidationException("suppressionFactor", $"must be in [0, 1], got {SuppressionFactor}.");
        }

        NonNegative("quantizationFloor", QuantizationFloor);
        ArgumentNullException.ThrowIfNull(Thresholds);
        foreach (var (profile, threshold) in Thresholds)
        {
            if (!double.IsFinite(threshold.Threshold) || !double.IsFinite(threshold.Score))
            {
                throw new ModelValidationException($"thresholds.{profile}", $"threshold and score must be finite numbers, got {threshold.Threshold} and {threshold.Score}.");
            }
        }
    }

    private static void AtLeast(string field, int value, int minimum)
    {
        if (value < minimum)
        {
            throw new ModelValidationException(field, $"must be at least {minimum}, got {value}.");
        }
    }

    private static void Fraction(string field, double value)
    {
        if (!(value > 0.0 && value <= 1.0))
        {
            throw new ModelValidationException(field, $"must be in (0, 1], got {value}.");
        }
    }

    private static void Positive(string field, double value) => Numerics.Validate.Positive(field, value);

    private static void NonNegative(string field, double value) => Numerics.Validate.NonNegative(field, value);
}
