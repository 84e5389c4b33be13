namespace StreamSeq.Estimation.Numerics;

/// <summary>Elementary functions that .NET and MathNet do not compute to full relative accuracy.</summary>
internal static class ElementaryFunctions
{
    /// <summary>e^x − 1 to a few units in the last place, also for x near 0.</summary>
    /// <remarks>
    /// <c>double.ExpM1</c> is <c>Math.Exp(x) − 1</c>, which cancels (relative error about ε/|x|: 1e-7 at x = 1e-9),
    /// and MathNet's <c>SpecialFunctions.Expm1</c> stops its series once a term falls below 2^−16 of the sum
    /// (relative errors up to 2e-7 for |x| below 0.1). Kahan's form divides the rounding of u = e^x out:
    /// (u − 1)·x / log u is exact to rounding when u is.
    /// </remarks>
    public static double ExpM1(double x)
    {
        var u = Math.Exp(x);
        if (u == 1.0)
        {
            return x;
        }

        var um1 = u - 1.0;
        if (um1 == -1.0 || double.IsInfinity(u) || double.IsNaN(u))
        {
            return um1;
        }

        return um1 * x / Math.Log(u);
    }
}
