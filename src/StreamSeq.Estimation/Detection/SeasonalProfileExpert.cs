namespace StreamSeq.Estimation.Detection;

/// <summary>
/// The seasonal-profile expert for one period P: every phase bin is its own local level (a random walk that moves
/// only when the phase visits it), so a profile of any shape is learned, not just a few harmonics. Works in place on
/// its slice of the stream state.
/// </summary>
/// <remarks>
/// The phase advances by the actual gaps, φ_t = (φ_{t−1} + Δt) mod P, and selects bin b = round(φ/w) of B = round(P/Δ)
/// bins (Δ the typical sampling interval). Bin b has mean s_b and scale-free variance p_b; after k periods unvisited
/// its predictive is t_ν(s_b, S (p_b + q_s k + 1)). The update is the robust scalar Kalman step of
/// <see cref="AnomalyDetector"/> with the expert's own noise scale S. A bin never visited has no opinion: the level
/// expert's predictive stands in for it.
/// </remarks>
internal static class SeasonalProfileExpert
{
    /// <summary>Sets up the expert; returns false (and leaves it inactive) when the period holds too few or too many intervals.</summary>
    internal static bool Initialize(Span<double> state, int maxBins, double period, double nominalGap, int minBins, double scale, double dof)
    {
        state.Clear();
        var ratio = period / nominalGap;
        if (!(ratio >= minBins) || !(ratio <= maxBins))
        {
            return false;
        }

        var bins = Math.Clamp((int)Math.Round(ratio), minBins, maxBins);
        state[DetectorLayout.SeasonBins] = bins;
        state[DetectorLayout.SeasonBinWidth] = period / bins;
        state[DetectorLayout.SeasonScale] = scale;
        state[DetectorLayout.SeasonDof] = dof;
        Variances(state, maxBins).Fill(double.NaN);
        return true;
    }

    /// <summary>True when the expert was activated.</summary>
    internal static bool IsActive(ReadOnlySpan<double> state) => state[DetectorLayout.SeasonBins] > 0.0;

    /// <summary>Advances the phase by <paramref name="gap"/> and returns the bin now visited.</summary>
    internal static int Advance(Span<double> state, double period, double gap)
    {
        var bins = (int)state[DetectorLayout.SeasonBins];
        state[DetectorLayout.SeasonClock] += gap;
        var phase = (state[DetectorLayout.SeasonPhase] + gap) % period;
        state[DetectorLayout.SeasonPhase] = phase;
        return Math.Min((int)((phase / state[DetectorLayout.SeasonBinWidth]) + 0.5) % bins, bins - 1);
    }

    /// <summary>
    /// The predictive of bin <paramref name="bin"/>, <paramref name="ahead"/> model time after the expert's clock: mean,
    /// squared scale and scale-free prior variance; false when the bin was never visited.
    /// </summary>
    internal static bool Predict(ReadOnlySpan<double> state, int maxBins, int bin, double period, double binNoise, double ahead, out double mean, out double scaleSquared, out double priorVariance)
    {
        var p = state[DetectorLayout.SeasonHeaderLength + maxBins + bin];
        if (double.IsNaN(p))
        {
            mean = scaleSquared = priorVariance = 0.0;
            return false;
        }

        var elapsed = (state[DetectorLayout.SeasonClock] + ahead - state[DetectorLayout.SeasonHeaderLength + (2 * maxBins) + bin]) / period;
        priorVariance = p + (binNoise * elapsed);
        mean = state[DetectorLayout.SeasonHeaderLength + bin];
        scaleSquared = state[DetectorLayout.SeasonScale] * (priorVariance + 1.0);
        return true;
    }

    /// <summary>Assimilates y into bin <paramref name="bin"/> (the first visit just records it).</summary>
    internal static void Update(Span<double> state, int maxBins, int bin, double y, double period, in AnomalyDetector.RobustSettings settings, double floor)
    {
        var values = state.Slice(DetectorLayout.SeasonHeaderLength, maxBins);
        var variances = Variances(state, maxBins);
        var lastVisit = state.Slice(DetectorLayout.SeasonHeaderLength + (2 * maxBins), maxBins);
        var clock = state[DetectorLayout.SeasonClock];
        if (double.IsNaN(variances[bin]))
        {
            values[bin] = y;
            variances[bin] = settings.InitialBinVariance;
            lastVisit[bin] = clock;
            return;
        }

        var prior = variances[bin] + (settings.BinNoise * (clock - lastVisit[bin]) / period);
        var scale = state[DetectorLayout.SeasonScale];
        var dof = state[DetectorLayout.SeasonDof];
        var (mean, variance, newScale, newDof) = AnomalyDetector.RobustUpdate(values[bin], prior, scale, dof, y, settings, floor);
        if (!double.IsFinite(mean) || !double.IsFinite(variance))
        {
            // Forget the bin rather than carry a broken value.
            variances[bin] = double.NaN;
            return;
        }

        values[bin] = mean;
        variances[bin] = variance;
        lastVisit[bin] = clock;
        if (double.IsFinite(newScale) && newScale > 0.0)
        {
            state[DetectorLayout.SeasonScale] = newScale;
            state[DetectorLayout.SeasonDof] = newDof;
        }
    }

    private static Span<double> Variances(Span<double> state, int maxBins) => state.Slice(DetectorLayout.SeasonHeaderLength + maxBins, maxBins);
}
