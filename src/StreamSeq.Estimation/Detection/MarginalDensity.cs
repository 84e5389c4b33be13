namespace StreamSeq.Estimation.Detection;

/// <summary>
/// The marginal-density expert: a histogram of every past value with a fixed number of bins that doubles its bin
/// width to cover new values, smoothed by a Gaussian kernel and blended with a broad Cauchy base measure
/// (a Dirichlet-process style predictive). Works in place on its slice of the stream state.
/// </summary>
/// <remarks>
/// p(y) = (Σ_b c_b φ_h(y − centre_b) + α₀ g(y)) / (n + α₀), with h = max(w, 0.9 · IQR/1.349 · n^(−1/5)) (Silverman's
/// rule on the histogram's quartiles), w the bin width, α₀ the prior weight and g a Cauchy density centred on the
/// histogram's support with a quarter of its width as scale. Values outside the support make it merge bin pairs
/// until they fit, so the histogram always spans everything seen.
/// </remarks>
internal static class MarginalDensity
{
    private const double InverseSqrtTwoPi = 0.3989422804014327;

    /// <summary>Starts the histogram on the range of the warm-up values.</summary>
    internal static void Initialize(Span<double> state, int bins, double minimum, double maximum)
    {
        var range = Math.Max(maximum - minimum, 1e-9 * Math.Max(1.0, Math.Abs(maximum)));
        state[DetectorLayout.MarginalWidth] = range / (bins / 2.0);
        state[DetectorLayout.MarginalLow] = minimum - (range / 2.0);
        state[DetectorLayout.MarginalCount] = 0.0;
        state.Slice(DetectorLayout.MarginalHeaderLength, bins).Clear();
    }

    /// <summary>log p(y) before <paramref name="y"/> is added.</summary>
    internal static double LogDensity(ReadOnlySpan<double> state, int bins, double y, double priorWeight, double bandwidthFactor)
    {
        var low = state[DetectorLayout.MarginalLow];
        var width = state[DetectorLayout.MarginalWidth];
        var n = state[DetectorLayout.MarginalCount];
        var counts = state.Slice(DetectorLayout.MarginalHeaderLength, bins);
        var span = bins * width;
        var scale = span / 4.0;
        var u = (y - (low + (span / 2.0))) / scale;
        var baseDensity = 1.0 / (Math.PI * scale * (1.0 + (u * u)));

        var h = Bandwidth(counts, n, low, width, bandwidthFactor);
        var reach = (int)Math.Min(bins, Math.Ceiling(4.0 * h / width) + 1.0);
        var position = (y - low) / width;
        var kernelSum = 0.0;
        if (position > -reach && position < bins + reach)
        {
            var centre = (int)Math.Floor(position);
            var first = Math.Max(0, centre - reach);
            var last = Math.Min(bins - 1, centre + reach);
            for (var b = first; b <= last; b++)
            {
                var c = counts[b];
                if (c != 0.0)
                {
                    var d = (y - (low + ((b + 0.5) * width))) / h;
                    kernelSum += c * Math.Exp(-0.5 * d * d);
                }
            }

            kernelSum *= InverseSqrtTwoPi / h;
        }

        return Math.Log(((kernelSum + (priorWeight * baseDensity)) / (n + priorWeight)) + double.Epsilon);
    }

    /// <summary>Mean and variance of the histogram (bin centres), for the predictive moments.</summary>
    internal static (double Mean, double Variance) Moments(ReadOnlySpan<double> state, int bins)
    {
        var low = state[DetectorLayout.MarginalLow];
        var width = state[DetectorLayout.MarginalWidth];
        var n = state[DetectorLayout.MarginalCount];
        if (!(n > 0.0))
        {
            return (low + (bins * width / 2.0), width * width);
        }

        var counts = state.Slice(DetectorLayout.MarginalHeaderLength, bins);
        double sum = 0.0, sumSquares = 0.0;
        for (var b = 0; b < bins; b++)
        {
            var x = low + ((b + 0.5) * width);
            sum += counts[b] * x;
            sumSquares += counts[b] * x * x;
        }

        var mean = sum / n;
        return (mean, Math.Max((sumSquares / n) - (mean * mean), 0.0) + (width * width / 12.0));
    }

    /// <summary>Adds a finite value, widening the histogram first when it falls outside.</summary>
    internal static void Add(Span<double> state, int bins, double y)
    {
        var counts = state.Slice(DetectorLayout.MarginalHeaderLength, bins);
        var guard = 0;
        while (!Covers(state, bins, y))
        {
            if (++guard > 2100 || !double.IsFinite(state[DetectorLayout.MarginalWidth] * 2.0 * bins))
            {
                // The value is beyond any range doubling can reach: restart the histogram around it.
                Initialize(state, bins, y, y);
                break;
            }

            Expand(state, counts, bins, y < state[DetectorLayout.MarginalLow]);
        }

        var b = Math.Clamp((int)((y - state[DetectorLayout.MarginalLow]) / state[DetectorLayout.MarginalWidth]), 0, bins - 1);
        counts[b] += 1.0;
        state[DetectorLayout.MarginalCount] += 1.0;
    }

    private static bool Covers(ReadOnlySpan<double> state, int bins, double y)
    {
        var low = state[DetectorLayout.MarginalLow];
        return y >= low && y < low + (bins * state[DetectorLayout.MarginalWidth]);
    }

    private static void Expand(Span<double> state, Span<double> counts, int bins, bool downward)
    {
        var half = bins / 2;
        if (downward)
        {
            // The old range becomes the upper half.
            for (var i = half - 1; i >= 0; i--)
            {
                var merged = counts[2 * i] + counts[(2 * i) + 1];
                counts[half + i] = merged;
            }

            counts[..half].Clear();
            state[DetectorLayout.MarginalLow] -= bins * state[DetectorLayout.MarginalWidth];
        }
        else
        {
            for (var i = 0; i < half; i++)
            {
                counts[i] = counts[2 * i] + counts[(2 * i) + 1];
            }

            counts[half..].Clear();
        }

        state[DetectorLayout.MarginalWidth] *= 2.0;
    }

    private static double Bandwidth(ReadOnlySpan<double> counts, double n, double low, double width, double factor)
    {
        if (!(n > 1.0))
        {
            return width;
        }

        double q1 = low, q3 = low, cumulative = 0.0;
        var haveQ1 = false;
        for (var b = 0; b < counts.Length; b++)
        {
            cumulative += counts[b];
            if (!haveQ1 && cumulative >= 0.25 * n)
            {
                q1 = low + ((b + 0.5) * width);
                haveQ1 = true;
            }

            if (cumulative >= 0.75 * n)
            {
                q3 = low + ((b + 0.5) * width);
                break;
            }
        }

        var silverman = factor * Math.Max(q3 - q1, 0.0) / 1.349 * Math.Pow(n, -0.2);
        return Math.Max(silverman, width);
    }
}
