using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Changepoint;

/// <summary>A constant hazard h(d) = <see cref="Rate"/>: geometric segment lengths with mean 1/rate.</summary>
public sealed class ConstantHazard : ChangepointHazard
{
    /// <summary>Creates the hazard; <paramref name="rate"/> must lie strictly between 0 and 1 (field <c>rate</c>).</summary>
    public ConstantHazard(double rate)
    {
        if (!(rate > 0.0 && rate < 1.0))
        {
            throw new ModelValidationException("rate", $"must lie strictly between 0 and 1 (a per-step changepoint probability), got {rate}.");
        }

        Rate = rate;
    }

    /// <summary>The per-step changepoint probability.</summary>
    public double Rate { get; }

    /// <inheritdoc />
    public override string Type => "constant";

    /// <inheritdoc />
    public override double Probability(int duration) => Rate;
}
