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
/// <para>With the exceedance tail (<see cref="AnomalyDetectorOptions.TailModel"/> = "exceedance"), the exponential
/// tail is used for every value above u, not only beyond the largest: p(s) = (m/n) · exp(−(s − u)/τ) with m the
/// count at or above u (peaks over a threshold). A second tree holds the bins' summed positions, so u and τ cost
/// O(log bins) at every step; a new record then scores by how far it lies beyond the stream's typical extremes
/// rather than by being the largest so far.</para>
/// </remarks>
internal static class SurprisalCalibrator
{
    /// <summary>Resets the calibrator to an empty history (<paramref name="trees"/>: 1, or 2 with the exceedance tail).</summary>
    internal static void Initialize(Span<double> state, int bins, int trees = 1)
    {
        state[DetectorLayout.CalibrationSeen] = 0.0;
        state[DetectorLayout.CalibrationMaximumSeen] = double.NegativeInfinity;
        state.Slice(DetectorLayout.CalibrationHeaderLength, trees * bins).Clear();
    }

    /// <summary>
    /// ln P(S ≥ s) under the history (before s is added) with the exceedance tail: empirical up to the (1 − f)
    /// quantile u, exponential with the mean excess over u as scale beyond it.
    /// </summary>
    internal static double LogExceedanceTail(ReadOnlySpan<double> state, int bins, double minimum, double resolution, double tailFraction, double minimumTailScale, double s)
    {
        var total = state[DetectorLayout.CalibrationSeen];
        var tree = state.Slice(DetectorLayout.CalibrationHeaderLength, bins);
        var sums = state.Slice(DetectorLayout.CalibrationHeaderLength + bins, bins);
        var x = (s - minimum) / resolution;

        // u: the lowest bin whose count at or above it is at least f n (the largest prefix of at most n − f n).
        var top = Math.Min(Descend(tree, total - Math.Max(tailFraction * total, 1.0)), bins - 1);
        var below = Prefix(tree, top);
        var inTail = total - below;
        if (x <= top || !(inTail > 0.0))
        {
            return LogTail(state, bins, minimum, resolution, tailFraction, minimumTailScale, s);
        }

        var meanPosition = (Prefix(sums, bins) - Prefix(sums, top)) / inTail;
        var tailScale = Math.Max((meanPosition - top) * resolution, minimumTailScale);
        return Math.Log(inTail / total) - ((x - top) * resolution / tailScale);
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

    /// <summary>Adds a surprisal value to the history (<paramref name="trees"/>: 1, or 2 with the exceedance tail).</summary>
    internal static void Add(Span<double> state, int bins, double minimum, double resolution, double s, int trees = 1)
    {
        var x = (s - minimum) / resolution;
        var b = Math.Clamp((int)x, 0, bins - 1);
        var tree = state.Slice(DetectorLayout.CalibrationHeaderLength, bins);
        for (var i = b + 1; i <= bins; i += i & -i)
        {
            tree[i - 1] += 1.0;
        }

        if (trees > 1)
        {
            // Bin centres in bin units: whole numbers plus one half, so these sums are exact too.
            var sums = state.Slice(DetectorLayout.CalibrationHeaderLength + bins, bins);
            for (var i = b + 1; i <= bins; i += i & -i)
            {
                sums[i - 1] += b + 0.5;
            }
        }

        state[DetectorLayout.CalibrationSeen] += 1.0;
        if (x > state[DetectorLayout.CalibrationMaximumSeen])
        {
            state[DetectorLayout.CalibrationMaximumSeen] = x;
        }
    }

    /// <summary>The largest k with Prefix(k) ≤ <paramref name="target"/> (Fenwick descent, O(log bins)).</summary>
    private static int Descend(ReadOnlySpan<double> tree, double target)
    {
        var position = 0;
        var step = 1;
        while (step * 2 <= tree.Length)
        {
            step *= 2;
        }

        for (; step > 0; step /= 2)
        {
            var next = position + step;
            if (next <= tree.Length && tree[next - 1] <= target)
            {
                position = next;
                target -= tree[next - 1];
            }
        }

        return position;
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
