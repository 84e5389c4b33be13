namespace StreamSeq.Estimation.Detection;

/// <summary>The natural log of the standard normal upper tail, accurate far into the tail.</summary>
internal static class GaussianTail
{
    /// <summary>ln Q(z) = ln P(Z ≥ z) for a standard normal Z.</summary>
    /// <remarks>
    /// Q(z) = erfc(z/√2)/2, with erfc from a Chebyshev-fitted form erfc(x) = t · exp(−x² + P(t)), t = 1/(1 + x/2),
    /// whose relative error is below 1.2e-7 for every x ≥ 0, so the log stays accurate where Q itself underflows.
    /// For z &lt; 0, Q(z) = 1 − Q(−z).
    /// </remarks>
    internal static double LogUpper(double z)
    {
        if (double.IsNaN(z))
        {
            return double.NaN;
        }

        var x = Math.Abs(z) / Math.Sqrt(2.0);
        var t = 1.0 / (1.0 + (0.5 * x));
        var poly = -1.26551223 + (t * (1.00002368 + (t * (0.37409196 + (t * (0.09678418 + (t * (-0.18628806
            + (t * (0.27886807 + (t * (-1.13520398 + (t * (1.48851587 + (t * (-0.82215223 + (t * 0.17087277)))))))))))))))));
        var logErfc = Math.Log(t) - (x * x) + poly;
        var logUpper = logErfc - Math.Log(2.0);
        return z >= 0.0 ? logUpper : Math.Log(-double.ExpM1(logUpper));
    }
}
