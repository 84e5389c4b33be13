using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian.ContinuousTime;

/// <summary>
/// A seasonal pattern of period P as a sum of h harmonics. Harmonic j has frequency ω_j = 2πj/P and a state
/// pair (γ_j, γ*_j) rotated by ω_jΔt over a gap: F_j = [[cos ω_jΔt, sin ω_jΔt], [−sin ω_jΔt, cos ω_jΔt]],
/// Q_j = q Δt I₂. The observation adds the γ_j.
/// </summary>
/// <remarks><see cref="Period"/> is P in model time units, <see cref="Harmonics"/> is h and
/// <see cref="SeasonalNoise"/> is q. With Δt = 1 this is the discrete trigonometric seasonal of structural
/// time-series models.</remarks>
public sealed class TrigonometricSeasonal : ContinuousComponent
{
    /// <summary>Creates the component.</summary>
    public TrigonometricSeasonal(double period, int harmonics, double seasonalNoise)
    {
        Validate.Positive("period", period);
        if (harmonics < 1)
        {
            throw new Abstractions.ModelValidationException("harmonics", $"must be at least 1, got {harmonics}.");
        }

        Validate.NonNegative("seasonalNoise", seasonalNoise);
        Validate.AtMostMaxVariance("seasonalNoise", seasonalNoise);
        Period = period;
        Harmonics = harmonics;
        SeasonalNoise = seasonalNoise;
    }

    /// <summary>P.</summary>
    public double Period { get; }

    /// <summary>h.</summary>
    public int Harmonics { get; }

    /// <summary>q.</summary>
    public double SeasonalNoise { get; }

    /// <inheritdoc />
    public override string Name => "seasonal";

    /// <inheritdoc />
    public override int StateDimension => 2 * Harmonics;

    /// <inheritdoc />
    public override int ObservationDimension => 1;

    /// <inheritdoc />
    public override void Discretize(double timeGap, Span<double> transition, Span<double> noise, Span<double> offset)
    {
        var n = StateDimension;
        for (var j = 0; j < Harmonics; j++)
        {
            // In half-turns, so quarter and half turns are exact: at half the period (harmonic P/2, gap 1) sin is 0,
            // not 1.2e-16, and the state no reading can see stays unseen instead of being read through rounding.
            var (s, c) = double.SinCosPi(2.0 * (j + 1) / Period * timeGap);
            var a = 2 * j;
            var b = a + 1;
            transition[(a * n) + a] = c;
            transition[(a * n) + b] = s;
            transition[(b * n) + a] = -s;
            transition[(b * n) + b] = c;
            noise[(a * n) + a] = SeasonalNoise * timeGap;
            noise[(b * n) + b] = SeasonalNoise * timeGap;
        }
    }

    /// <inheritdoc />
    public override void WriteObservation(Span<double> observation)
    {
        for (var j = 0; j < Harmonics; j++)
        {
            observation[2 * j] = 1.0;
        }
    }
}
