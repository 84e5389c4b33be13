namespace StreamSeq.Estimation.Detection;

/// <summary>
/// The running tail probability of surprisal: a histogram of every past (standardised) surprisal value gives
/// P(S ≥ s) up to the largest value seen; beyond it the tail continues exponentially with the mean excess of the
/// top fraction of the history as scale. Works in place on its slice of the stream state.
/// </summary>
/// <remarks>
/// With n past values, p(s) = max(#{S ≥ s}/n, 1/(2n)) for s up to the maximum seen, and
/// p(s) = (1/n) · exp(−(s − max(s_max, u))/τ) beyond it, where u is the (1 − f) quantile of the history
/// (f = <see cref="AnomalyDetectorOptions.TailFraction"/>) and τ the mean excess over u (at least
/// <see cref="AnomalyDetectorOptions.MinimumTailScale"/>). Counts within a bin are spread uniformly.
/// </remarks>
internal static class SurprisalCalibrator
{
    /// <summary>Resets the calibrator to an empty history.</summary>
    internal static void Initialize(Span<double> state, int bins)
    {
        state[DetectorLayout.CalibrationSeen] = 0.0;
        state[DetectorLayout.CalibrationMaximumSeen] = double.NegativeInfinity;
        state.Slice(DetectorLayout.CalibrationHeaderLength, bins).Clear();
    }

    /// <summary>Values seen so far.</summary>
    internal static double Seen(ReadOnlySpan<double> state) => state[DetectorLayout.CalibrationSeen];

    /// <summary>ln P(S ≥ s) under the history (before s is added).</summary>
    internal static double LogTail(ReadOnlySpan<double> state, int bins, double minimum, double resolution, double tailFraction, double minimumTailScale, double s)
    {
        var total = state[DetectorLayout.CalibrationSeen];
        var counts = state.Slice(DetectorLayout.CalibrationHeaderLength, bins);
        var x = (s - minimum) / resolution;
        if (x <= state[DetectorLayout.CalibrationMaximumSeen])
        {
            var b = Math.Max((int)x, 0);
            var above = 0.0;
            for (var i = Math.Min(b, bins - 1); i < bins; i++)
            {
                above += counts[i];
            }

            if (b < bins)
            {
                above -= counts[b] * (x - b);
            }

            return Math.Log(Math.Max(above / total, 0.5 / total));
        }

        // Beyond the largest value seen: exponential tail with the mean excess of the top fraction as scale.
        var target = tailFraction * total;
        var accumulated = 0.0;
        var top = bins - 1;
        for (var i = bins - 1; i >= 0; i--)
        {
            accumulated += counts[i];
            if (accumulated >= target)
            {
                top = i;
                break;
            }
        }

        double excess = 0.0, inTail = 0.0;
        for (var i = top; i < bins; i++)
        {
            excess += counts[i] * (i + 0.5 - top);
            inTail += counts[i];
        }

        var tailScale = Math.Max(inTail > 0.0 ? excess / inTail * resolution : resolution, minimumTailScale);
        var from = Math.Max(state[DetectorLayout.CalibrationMaximumSeen], top);
        return -Math.Log(total) - ((x - from) * resolution / tailScale);
    }

    /// <summary>Adds a surprisal value to the history.</summary>
    internal static void Add(Span<double> state, int bins, double minimum, double resolution, double s)
    {
        var x = (s - minimum) / resolution;
        var b = Math.Clamp((int)x, 0, bins - 1);
        state[DetectorLayout.CalibrationHeaderLength + b] += 1.0;
        state[DetectorLayout.CalibrationSeen] += 1.0;
        if (x > state[DetectorLayout.CalibrationMaximumSeen])
        {
            state[DetectorLayout.CalibrationMaximumSeen] = x;
        }
    }
}
