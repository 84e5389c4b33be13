using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Changepoint;

/// <summary>
/// The hazard of a discrete Weibull segment length: P(L &gt; d) = exp(−(d/λ)^k), so
/// h(d) = 1 − exp(−[(d/λ)^k − ((d−1)/λ)^k]).
/// </summary>
/// <remarks>λ is <see cref="Scale"/> (a typical segment length) and k <see cref="Shape"/>: k &gt; 1 makes old segments
/// more likely to end, k &lt; 1 less likely, and k = 1 is the constant hazard 1 − e^{−1/λ}.</remarks>
public sealed class WeibullHazard : ChangepointHazard
{
    /// <summary>Creates the hazard (errors name <c>scale</c> / <c>shape</c>).</summary>
    public WeibullHazard(double scale, double shape)
    {
        if (!(scale > 0.0) || !double.IsFinite(scale))
        {
            throw new ModelValidationException("scale", $"must be a positive finite segment length, got {scale}.");
        }

        if (!(shape > 0.0) || !double.IsFinite(shape))
        {
            throw new ModelValidationException("shape", $"must be positive and finite, got {shape}.");
        }

        Scale = scale;
        Shape = shape;
    }

    /// <summary>λ.</summary>
    public double Scale { get; }

    /// <summary>k.</summary>
    public double Shape { get; }

    /// <inheritdoc />
    public override string Type => "weibull";

    /// <inheritdoc />
    public override double Probability(int duration)
    {
        var increment = Math.Pow(duration / Scale, Shape) - Math.Pow((duration - 1) / Scale, Shape);
        return Math.Clamp(-ElementaryFunctions.ExpM1(-increment), 0.0, 1.0);
    }
}
