namespace StreamSeq.Nab;

/// <summary>
/// NAB's scaled sigmoid, which turns a row's position relative to an anomaly window into a reward.
/// </summary>
/// <remarks>
/// s(x) = 2 / (1 + exp(5 x)) - 1 for x &lt;= 3 and s(x) = -1 for x &gt; 3 (equivalently -tanh(5 x / 2) up to the cut).
/// x = -1 is the left edge of a window (s = 0.98661), x = 0 its right edge (s = 0), x &gt; 0 lies past the window
/// (negative rewards, close to -1 from three window widths on).
/// </remarks>
internal static class ScaledSigmoid
{
    /// <summary>s(-1): the reward of the earliest possible detection, used to scale true positives to tpWeight.</summary>
    internal static readonly double MaxTruePositive = Evaluate(-1.0);

    /// <summary>Evaluates s(x) with NAB's operation order (2 * sigmoid(-5 x) - 1).</summary>
    internal static double Evaluate(double relativePosition)
    {
        if (relativePosition > 3.0)
        {
            return -1.0;
        }

        var sigmoid = 1.0 / (1.0 + Math.Exp(5.0 * relativePosition));
        return (2.0 * sigmoid) - 1.0;
    }
}
