using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Changepoint;

/// <summary>A logistic hazard h(d) = r / (1 + exp(−s (d − d₀))): rises (s &gt; 0) or falls (s &lt; 0) smoothly with age.</summary>
/// <remarks>r is <see cref="Rate"/> (the ceiling, strictly between 0 and 1), s <see cref="Slope"/> and d₀
/// <see cref="Midpoint"/> (the age at which the hazard is r/2).</remarks>
public sealed class LogisticHazard : ChangepointHazard
{
    /// <summary>Creates the hazard (errors name <c>rate</c>, <c>slope</c>, <c>midpoint</c>).</summary>
    public LogisticHazard(double rate, double slope, double midpoint)
    {
        if (!(rate > 0.0 && rate < 1.0))
        {
            throw new ModelValidationException("rate", $"must lie strictly between 0 and 1, got {rate}.");
        }

        if (!double.IsFinite(slope))
        {
            throw new ModelValidationException("slope", $"must be finite, got {slope}.");
        }

        if (!double.IsFinite(midpoint))
        {
            throw new ModelValidationException("midpoint", $"must be finite, got {midpoint}.");
        }

        Rate = rate;
        Slope = slope;
        Midpoint = midpoint;
    }

    /// <summary>r.</summary>
    public double Rate { get; }

    /// <summary>s.</summary>
    public double Slope { get; }

    /// <summary>d₀.</summary>
    public double Midpoint { get; }

    /// <inheritdoc />
    public override string Type => "logistic";

    /// <inheritdoc />
    public override double Probability(int duration) => Rate / (1.0 + Math.Exp(-Slope * (duration - Midpoint)));
}
