using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Processing.Anomaly;

/// <summary>One anomaly rule on a step's innovation statistics or a family extra.</summary>
/// <remarks>
/// Every rule maps a step to a score and a "beyond threshold" decision, and to a "cleared" decision used for
/// hysteresis: the alert episode ends when the score returns inside <see cref="ClearThreshold"/>.
/// Scores: chi-square rules score −log10 of the tail probability (larger is more anomalous), NIS rules the NIS,
/// log-likelihood rules the negative log-likelihood, extra rules the extra's value.
/// </remarks>
public sealed class AnomalyRule
{
    private readonly double[] chiSquareQuantiles;

    /// <summary>Creates a rule.</summary>
    /// <param name="name">Rule name written into anomaly records.</param>
    /// <param name="type">What is compared.</param>
    /// <param name="threshold">The threshold (for <see cref="AnomalyRuleType.ChiSquare"/> a tail probability α).</param>
    /// <param name="clearThreshold">Where an episode ends; defaults to the threshold (no hysteresis band).</param>
    /// <param name="extra">The extra's name for <see cref="AnomalyRuleType.Extra"/>.</param>
    /// <param name="maxDimension">Largest observation dimension (chi-square quantiles are precomputed up to it).</param>
    public AnomalyRule(string name, AnomalyRuleType type, double threshold, double? clearThreshold = null, string? extra = null, int maxDimension = 64)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        Type = type;
        Threshold = threshold;
        Extra = extra;
        switch (type)
        {
            case AnomalyRuleType.ChiSquare:
                if (!(threshold > 0 && threshold < 1))
                {
                    throw new ModelValidationException("threshold", $"a chi-square rule takes a tail probability in (0, 1), got {threshold}.");
                }

                break;
            case AnomalyRuleType.Extra when string.IsNullOrWhiteSpace(extra):
                throw new ModelValidationException("extra", "an extra rule needs the name of the extra to watch.");
        }

        ClearThreshold = clearThreshold ?? threshold;
        chiSquareQuantiles = new double[maxDimension + 1];
        if (type == AnomalyRuleType.ChiSquare)
        {
            for (var k = 1; k <= maxDimension; k++)
            {
                chiSquareQuantiles[k] = MathNet.Numerics.Distributions.ChiSquared.InvCDF(k, 1.0 - threshold);
            }
        }
    }

    /// <summary>Rule name.</summary>
    public string Name { get; }

    /// <summary>Rule type.</summary>
    public AnomalyRuleType Type { get; }

    /// <summary>Threshold.</summary>
    public double Threshold { get; }

    /// <summary>Level at which an episode clears.</summary>
    public double ClearThreshold { get; }

    /// <summary>The watched extra for <see cref="AnomalyRuleType.Extra"/>.</summary>
    public string? Extra { get; }

    /// <summary>Evaluates the rule on a step.</summary>
    /// <param name="estimate">The step's estimate.</param>
    /// <param name="extraOffset">Offset of <see cref="Extra"/> in the estimate's extras (-1 when absent).</param>
    /// <param name="score">The rule's score.</param>
    /// <param name="threshold">The threshold in score units.</param>
    /// <param name="cleared">True when the score is inside the clear threshold.</param>
    /// <returns>True when the step is beyond the threshold.</returns>
    public bool Evaluate(Estimate estimate, int extraOffset, out double score, out double threshold, out bool cleared)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        var nis = estimate.NormalizedInnovationSquared;
        switch (Type)
        {
            case AnomalyRuleType.ChiSquare:
                {
                    var k = Math.Clamp(estimate.ObservedCount, 0, chiSquareQuantiles.Length - 1);
                    threshold = -Math.Log10(Threshold);
                    if (k == 0 || double.IsNaN(nis))
                    {
                        score = double.NaN;
                        cleared = true;
                        return false;
                    }

                    var tail = MathNet.Numerics.Distributions.ChiSquared.CDF(k, nis);
                    score = -Math.Log10(Math.Max(1.0 - tail, 1e-300));
                    cleared = score <= -Math.Log10(ClearThreshold);
                    return nis > chiSquareQuantiles[k];
                }

            case AnomalyRuleType.Nis:
                score = nis;
                threshold = Threshold;
                cleared = !(nis > ClearThreshold);
                return nis > Threshold;
            case AnomalyRuleType.LogLikelihood:
                score = -estimate.LogLikelihood;
                threshold = -Threshold;
                cleared = !(estimate.LogLikelihood < ClearThreshold);
                return estimate.LogLikelihood < Threshold;
            default:
                threshold = Threshold;
                if (extraOffset < 0)
                {
                    score = double.NaN;
                    cleared = true;
                    return false;
                }

                score = estimate.Extras[extraOffset];
                cleared = !(score >= ClearThreshold);
                return score >= Threshold;
        }
    }
}
