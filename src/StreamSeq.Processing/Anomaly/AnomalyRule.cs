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
    private readonly double[] chiSquareClearQuantiles;

    /// <summary>A chi-square rule's threshold in score units, −log10 α, fixed with α.</summary>
    private readonly double chiSquareScoreThreshold;

    /// <summary>Creates a rule.</summary>
    /// <param name="name">Rule name written into anomaly records.</param>
    /// <param name="type">What is compared.</param>
    /// <param name="threshold">The threshold (for <see cref="AnomalyRuleType.ChiSquare"/> a tail probability α).</param>
    /// <param name="clearThreshold">Where an episode ends; defaults to the threshold (no hysteresis band).</param>
    /// <param name="extra">The extra's name for <see cref="AnomalyRuleType.Extra"/>.</param>
    /// <param name="maxDimension">Observation dimension up to which chi-square quantiles are precomputed; a step with more observed components is scored and decided on its own tail.</param>
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

                if (clearThreshold is { } clear && !(clear > 0 && clear < 1))
                {
                    throw new ModelValidationException("clearThreshold", $"a chi-square rule takes a tail probability in (0, 1), got {clear}.");
                }

                break;
            case AnomalyRuleType.Extra when string.IsNullOrWhiteSpace(extra):
                throw new ModelValidationException("extra", "an extra rule needs the name of the extra to watch.");
        }

        ClearThreshold = clearThreshold ?? threshold;
        chiSquareScoreThreshold = -Math.Log10(threshold);
        chiSquareQuantiles = new double[maxDimension + 1];
        chiSquareClearQuantiles = new double[maxDimension + 1];
        if (type == AnomalyRuleType.ChiSquare)
        {
            for (var k = 1; k <= maxDimension; k++)
            {
                chiSquareQuantiles[k] = ChiSquareUpperQuantile(k, threshold);
                chiSquareClearQuantiles[k] = ChiSquareUpperQuantile(k, ClearThreshold);
            }
        }
    }

    /// <summary>
    /// ln P(χ²_k &gt; x), the log of the chi-square upper tail, accurate where the tail itself underflows: 1 − CDF
    /// rounds to 0 once the tail is below about 1e-16, so every strong anomaly used to score the same.
    /// </summary>
    /// <remarks>
    /// The tail is Q(k/2, x/2), the regularised upper incomplete gamma function. Below a + 1 it is not small and MathNet's
    /// Q is used as it is; beyond, Legendre's continued fraction for Γ(a, y)·e^y·y^−a is evaluated by the modified Lentz
    /// method and the prefactor −y + a·ln y − ln Γ(a) is added in log space, so no intermediate underflows.
    /// </remarks>
    internal static double LogChiSquareTail(int k, double x)
    {
        var a = 0.5 * k;
        var y = 0.5 * x;
        if (!(y >= a + 1.0))
        {
            return Math.Log(MathNet.Numerics.SpecialFunctions.GammaUpperRegularized(a, Math.Max(y, 0.0)));
        }

        if (double.IsPositiveInfinity(y))
        {
            return double.NegativeInfinity;
        }

        const double tiny = 1e-300;
        var b = y + 1.0 - a;
        var c = 1.0 / tiny;
        var d = 1.0 / b;
        var h = d;
        for (var i = 1; i <= 1000; i++)
        {
            var an = -i * (i - a);
            b += 2.0;
            d = an * d + b;
            d = Math.Abs(d) < tiny ? tiny : d;
            c = b + an / c;
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1.0 / d;
            var step = d * c;
            h *= step;
            if (Math.Abs(step - 1.0) < 1e-16)
            {
                break;
            }
        }

        return -y + a * Math.Log(y) - MathNet.Numerics.SpecialFunctions.GammaLn(a) + Math.Log(h);
    }

    /// <summary>
    /// The NIS whose chi-square upper tail is <paramref name="probability"/>: MathNet's inverse CDF at 1 − p while p is
    /// large enough for 1 − p to keep its digits, and below that the root of ln Q = ln p found by bisection on the
    /// log tail (1 − 1e-20 is 1 in double, and the inverse CDF there is infinite: such a rule never fired).
    /// </summary>
    internal static double ChiSquareUpperQuantile(int k, double probability)
    {
        if (probability >= 1e-6)
        {
            return MathNet.Numerics.Distributions.ChiSquared.InvCDF(k, 1.0 - probability);
        }

        var target = Math.Log(probability);
        double low = 0, high = k + 2.0;
        while (LogChiSquareTail(k, high) > target)
        {
            low = high;
            high *= 2;
        }

        for (var i = 0; i < 200 && high - low > 1e-15 * high; i++)
        {
            var middle = 0.5 * (low + high);
            if (LogChiSquareTail(k, middle) > target)
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        return 0.5 * (low + high);
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
    public bool Evaluate(Estimate estimate, int extraOffset, out double score, out double threshold, out bool cleared) =>
        Evaluate(estimate, extraOffset, scoreEveryStep: true, out score, out threshold, out cleared);

    /// <summary>
    /// Evaluates the rule on a step; with <paramref name="scoreEveryStep"/> false a chi-square rule leaves the score
    /// NaN on a step within its threshold, where no record carries it. Its tail costs a few hundred nanoseconds, more
    /// than a small filter's step, and the decisions need only the precomputed quantiles.
    /// </summary>
    internal bool Evaluate(Estimate estimate, int extraOffset, bool scoreEveryStep, out double score, out double threshold, out bool cleared)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        var nis = estimate.NormalizedInnovationSquared;
        switch (Type)
        {
            case AnomalyRuleType.ChiSquare:
                {
                    // The NIS of a step inside an exact diffuse start sums over fewer values than were observed.
                    var k = Math.Max(estimate.InnovationCount >= 0 ? estimate.InnovationCount : estimate.ObservedCount, 0);
                    threshold = chiSquareScoreThreshold;
                    if (k == 0 || double.IsNaN(nis))
                    {
                        score = double.NaN;
                        cleared = true;
                        return false;
                    }

                    if (k >= chiSquareQuantiles.Length)
                    {
                        // More observed components than the quantiles were precomputed for: decide on the step's own
                        // tail (never on a smaller dimension's quantile, which scored a wide reading as far rarer).
                        var logTail = LogChiSquareTail(k, nis);
                        score = -logTail / Math.Log(10.0);
                        cleared = !(logTail < Math.Log(ClearThreshold));
                        return logTail < Math.Log(Threshold);
                    }

                    var beyond = nis > chiSquareQuantiles[k];
                    score = beyond || scoreEveryStep ? -LogChiSquareTail(k, nis) / Math.Log(10.0) : double.NaN;
                    cleared = nis <= chiSquareClearQuantiles[k];
                    return beyond;
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
