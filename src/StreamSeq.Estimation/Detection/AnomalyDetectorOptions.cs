using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Detection;

/// <summary>
/// Validated settings of an <see cref="AnomalyDetector"/>. The defaults are the configuration benchmarked on the NAB
/// development half (docs/nab-report.md says how each one was chosen).
/// </summary>
/// <remarks>
/// Symbols used in the <see cref="AnomalyDetector"/> remarks: δ_μ = <see cref="LevelDiscount"/>,
/// β = <see cref="VarianceDiscount"/>, ν = <see cref="ObservationDegreesOfFreedom"/>,
/// q_s = <see cref="SeasonalBinNoise"/>, ε = <see cref="SwitchingRate"/>, γ = <see cref="HistoryExponent"/>,
/// L = <see cref="SuppressionWindow"/>, κ = <see cref="SuppressionFactor"/>.
/// </remarks>
public sealed class AnomalyDetectorOptions
{
    /// <summary>One day in model time units when the time unit is one second.</summary>
    public const double SecondsPerDay = 86_400.0;

    /// <summary>The benchmarked configuration (time unit one second, so the seasonal periods are a day and a week).</summary>
    public static AnomalyDetectorOptions Default { get; } = new();

    /// <summary>Observed rows used to initialise the level, the noise scale and the sampling interval (W).</summary>
    public int WarmupLength { get; init; } = 16;

    /// <summary>Discount δ_μ of the level's information per typical sampling interval (0 &lt; δ_μ ≤ 1).</summary>
    public double LevelDiscount { get; init; } = 0.95;

    /// <summary>Discount β of the observation-noise evidence per observation (0 &lt; β ≤ 1).</summary>
    public double VarianceDiscount { get; init; } = 0.995;

    /// <summary>Degrees of freedom ν of the Student-t observation noise of the level and seasonal experts.</summary>
    public double ObservationDegreesOfFreedom { get; init; } = 30.0;

    /// <summary>Prior variance of the level at the end of the warm-up, in units of the noise variance.</summary>
    public double InitialLevelVariance { get; init; } = 10.0;

    /// <summary>Prior degrees of freedom of the noise-variance estimate at the end of the warm-up.</summary>
    public double InitialVarianceDegreesOfFreedom { get; init; } = 5.0;

    /// <summary>
    /// Seasonal periods P in model time units (default a day and a week with a one-second time unit). A period gets
    /// a seasonal-profile expert when it holds between <see cref="MinimumSeasonalBins"/> and
    /// <see cref="MaximumSeasonalBins"/> typical sampling intervals.
    /// </summary>
    public IReadOnlyList<double> SeasonalPeriods { get; init; } = [SecondsPerDay, 7 * SecondsPerDay];

    /// <summary>Random-walk variance q_s of one seasonal bin per period, in units of the noise variance.</summary>
    public double SeasonalBinNoise { get; init; } = 0.2;

    /// <summary>Variance of a seasonal bin after its first observation, in units of the noise variance.</summary>
    public double InitialBinVariance { get; init; } = 1.0;

    /// <summary>Fewest sampling intervals per period for a seasonal expert.</summary>
    public int MinimumSeasonalBins { get; init; } = 12;

    /// <summary>Most sampling intervals per period for a seasonal expert (sizes the per-stream state).</summary>
    public int MaximumSeasonalBins { get; init; } = 2048;

    /// <summary>
    /// Per-row changepoint probability of an optional Bayesian online changepoint (BOCPD) expert on the standardised
    /// values; 0 (the default) leaves it out.
    /// </summary>
    public double ChangepointHazard { get; init; }

    /// <summary>Largest run length the changepoint expert keeps.</summary>
    public int ChangepointMaxRunLength { get; init; } = 200;

    /// <summary>Bins of the histogram behind the marginal-density expert.</summary>
    public int MarginalBins { get; init; } = 256;

    /// <summary>Weight of the broad base measure in the marginal-density expert, in observations.</summary>
    public double MarginalPriorWeight { get; init; } = 1.0;

    /// <summary>Kernel bandwidth factor of the marginal density (Silverman's 0.9 · IQR/1.349 · n^(−1/5)).</summary>
    public double MarginalBandwidthFactor { get; init; } = 0.9;

    /// <summary>Fixed-share switching rate ε between experts per observation.</summary>
    public double SwitchingRate { get; init; } = 0.02;

    /// <summary>Surprisal values seen before tail probabilities are reported.</summary>
    public int CalibrationWarmup { get; init; } = 100;

    /// <summary>Resolution of the surprisal histogram behind the tail probability, in nats.</summary>
    public double CalibrationResolution { get; init; } = 0.1;

    /// <summary>Lowest standardised surprisal the histogram resolves (lower values share its first bin).</summary>
    public double CalibrationMinimum { get; init; } = -40.0;

    /// <summary>Highest standardised surprisal the histogram resolves (higher values share its last bin).</summary>
    public double CalibrationMaximum { get; init; } = 210.0;

    /// <summary>Fraction of the surprisal history whose mean excess sets the exponential tail beyond the maximum.</summary>
    public double TailFraction { get; init; } = 0.02;

    /// <summary>Smallest exponential tail scale, in nats.</summary>
    public double MinimumTailScale { get; init; } = 0.5;

    /// <summary>Exponent γ of the history-size correction q = p · n^γ of the tail probability.</summary>
    public double HistoryExponent { get; init; } = 0.5;

    /// <summary>Nats of −ln q that span the anomaly score from 0.5 (q = 1) to 1.</summary>
    public double ScoreSpan { get; init; } = 20.0;

    /// <summary>Rows L over which a score that is not a new maximum is suppressed (0 disables suppression).</summary>
    public int SuppressionWindow { get; init; } = 100;

    /// <summary>Factor κ applied to a score that does not exceed the largest of the previous L rows.</summary>
    public double SuppressionFactor { get; init; } = 0.5;

    /// <summary>Fraction of the squared quantisation step (smallest non-zero change seen) used as a noise-variance floor.</summary>
    public double QuantizationFloor { get; init; } = 0.25;

    /// <summary>Checks every setting; errors name the spec field.</summary>
    /// <exception cref="ModelValidationException">A setting is out of range.</exception>
    public void Validate()
    {
        AtLeast("warmupLength", WarmupLength, 3);
        Fraction("levelDiscount", LevelDiscount);
        Fraction("varianceDiscount", VarianceDiscount);
        Positive("observationDegreesOfFreedom", ObservationDegreesOfFreedom);
        Positive("initialLevelVariance", InitialLevelVariance);
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
        Positive("initialBinVariance", InitialBinVariance);
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
        NonNegative("historyExponent", HistoryExponent);
        Positive("scoreSpan", ScoreSpan);
        AtLeast("suppressionWindow", SuppressionWindow, 0);
        if (!(SuppressionFactor >= 0.0 && SuppressionFactor <= 1.0))
        {
            throw new ModelValidationException("suppressionFactor", $"must be in [0, 1], got {SuppressionFactor}.");
        }

        NonNegative("quantizationFloor", QuantizationFloor);
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
