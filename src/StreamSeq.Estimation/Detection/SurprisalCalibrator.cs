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
/// <see cref="AnomalyDetectorOptions.MinimumTailScale"/>). Counts within a bin are spread uniformly. The counts are
/// kept as a Fenwick (binary indexed) tree, so a tail count costs O(log bins); counts are whole numbers, so the sums
/// are exact and do not depend on the order they are added in.
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
        var tree = state.Slice(DetectorLayout.CalibrationHeaderLength, bins);
        var x = (s - minimum) / resolution;
        if (x <= state[DetectorLayout.CalibrationMaximumSeen])
        {
            var b = Math.Max((int)x, 0);
            double above;
            if (b < bins)
            {
                var below = Prefix(tree, b);
                var inBin = Prefix(tree, b + 1) - below;
                above = total - below - (inBin * (x - b));
            }
            else
            {
                above = total - Prefix(tree, bins - 1);
            }

            return Math.Log(Math.Max(above / total, 0.5 / total));
        }

        // Beyond the largest value seen: exponential tail with the mean excess of the top fraction as scale.
        var target = tailFraction * total;
        var top = bins - 1;
        for (var i = bins - 1; i >= 0; i--)
        {
            if (total - Prefix(tree, i) >= target)
            {
                top = i;
                break;
            }
        }

        double excess = 0.0, inTail = 0.0, previous = Prefix(tree, top);
        for (var i = top; i < bins; i++)
        {
            var next = Prefix(tree, i + 1);
            var count = next - previous;
            previous = next;
            excess += count * (i + 0.5 - top);
            inTail += count;
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
        var tree = state.Slice(DetectorLayout.CalibrationHeaderLength, bins);
        for (var i = b + 1; i <= bins; i += i & -i)
        {
            tree[i - 1] += 1.0;
        }

        state[DetectorLayout.CalibrationSeen] += 1.0;
        if (x > state[DetectorLayout.CalibrationMaximumSeen])
        {
            state[DetectorLayout.CalibrationMaximumSeen] = x;
        }
    }

    /// <summary>The number of values in bins [0, <paramref name="count"/>).</summary>
    private static double Prefix(ReadOnlySpan<double> tree, int count)
    {
        var sum = 0.0;
        for (var i = count; i > 0; i -= i & -i)
        {
            sum += tree[i - 1];
        }

        return sum;
    }
}
