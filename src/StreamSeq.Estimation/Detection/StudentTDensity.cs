using MathNet.Numerics;

namespace StreamSeq.Estimation.Detection;

/// <summary>Log density of a location-scale Student-t with fixed degrees of freedom (the constant is computed once).</summary>
internal sealed class StudentTDensity
{
    private readonly double halfNuPlusOne;
    private readonly double constant;

    internal StudentTDensity(double degreesOfFreedom)
    {
        DegreesOfFreedom = degreesOfFreedom;
        halfNuPlusOne = 0.5 * (degreesOfFreedom + 1.0);
        constant = SpecialFunctions.GammaLn(halfNuPlusOne) - SpecialFunctions.GammaLn(0.5 * degreesOfFreedom) - (0.5 * Math.Log(degreesOfFreedom * Math.PI));
    }

    /// <summary>ν.</summary>
    internal double DegreesOfFreedom { get; }

    /// <summary>log t_ν(y; mean, scale²) where <paramref name="scaleSquared"/> is the squared scale.</summary>
    internal double Log(double y, double mean, double scaleSquared)
    {
        var d = y - mean;
        return constant - (0.5 * Math.Log(scaleSquared)) - (halfNuPlusOne * Math.Log(1.0 + (d * d / (scaleSquared * DegreesOfFreedom))));
    }

    /// <summary>The variance of the distribution with squared scale <paramref name="scaleSquared"/> (ν &gt; 2), else the squared scale.</summary>
    internal double Variance(double scaleSquared) =>
        DegreesOfFreedom > 2.0 ? scaleSquared * DegreesOfFreedom / (DegreesOfFreedom - 2.0) : scaleSquared;
}
