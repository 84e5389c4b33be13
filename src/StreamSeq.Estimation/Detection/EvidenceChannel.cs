namespace StreamSeq.Estimation.Detection;

/// <summary>
/// Short-horizon evidence in the spirit of NAB's anomaly likelihood: the mean of the last W calibrated raw scores
/// r_t = 1 − p_t (p_t the surprisal's tail probability, so r_t is uniform on [0, 1] when the detector is calibrated)
/// is ranked against its own long-run mean and variance by a Gaussian tail. A run of moderately surprising readings,
/// none extreme on its own, becomes one very improbable mean. Works in place on its slice of the stream state.
/// </summary>
/// <remarks>
/// State: the write position, the number of raw scores seen, their running sum over the ring, the count, mean and
/// summed squared deviations of every past window mean (Welford), then the ring of the last W raw scores. The
/// long-run standard deviation is at least √(1/(12 W)), the value for independent uniform scores, so a stretch of
/// unusually steady scores cannot make ordinary windows look significant.
/// </remarks>
internal static class EvidenceChannel
{
    private const int Position = 0;
    private const int Seen = 1;
    private const int Sum = 2;
    private const int Count = 3;
    private const int Mean = 4;
    private const int Squares = 5;

    /// <summary>Header words before the ring.</summary>
    internal const int HeaderLength = 6;

    /// <summary>Resets the channel.</summary>
    internal static void Initialize(Span<double> state, int window) => state[..(HeaderLength + window)].Clear();

    /// <summary>
    /// Adds a raw score and returns ln of the Gaussian upper tail of the new window mean against the history of
    /// window means before it (0 until the window is full and two window means have been seen).
    /// </summary>
    internal static double Add(Span<double> state, int window, double raw)
    {
        var ring = state.Slice(HeaderLength, window);
        var position = (int)state[Position];
        var sum = state[Sum] - ring[position] + raw;
        ring[position] = raw;
        state[Position] = (position + 1) % window;
        state[Seen] += 1.0;
        if (state[Position] == 0.0)
        {
            // Once per cycle, re-add the ring so rounding in the running sum cannot drift.
            sum = 0.0;
            foreach (var r in ring)
            {
                sum += r;
            }
        }

        state[Sum] = sum;
        if (state[Seen] < window)
        {
            return 0.0;
        }

        var current = sum / window;
        var count = state[Count];
        var logTail = 0.0;
        if (count >= 2.0)
        {
            var deviation = Math.Max(Math.Sqrt(state[Squares] / (count - 1.0)), Math.Sqrt(1.0 / (12.0 * window)));
            logTail = GaussianTail.LogUpper((current - state[Mean]) / deviation);
        }

        // Welford's update of the window means' mean and squared deviations.
        count += 1.0;
        var delta = current - state[Mean];
        state[Mean] += delta / count;
        state[Squares] += delta * (current - state[Mean]);
        state[Count] = count;
        return logTail;
    }
}
