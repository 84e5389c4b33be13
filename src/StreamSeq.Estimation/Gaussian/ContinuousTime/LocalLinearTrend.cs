using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian.ContinuousTime;

/// <summary>
/// Level and slope: dμ = β dt + σ_μ dW₁, dβ = σ_β dW₂. Over a gap Δt, F = [[1, Δt], [0, 1]] and
/// Q = [[q_μ Δt + q_β Δt³/3, q_β Δt²/2], [q_β Δt²/2, q_β Δt]].
/// </summary>
/// <remarks><see cref="LevelNoise"/> is q_μ and <see cref="SlopeNoise"/> is q_β (variances per unit time).
/// The state is [level, slope] and the observation reads the level.</remarks>
public sealed class LocalLinearTrend : ContinuousComponent
{
    /// <summary>Creates the component.</summary>
    public LocalLinearTrend(double levelNoise, double slopeNoise)
    {
        Validate.NonNegative("levelNoise", levelNoise);
        Validate.AtMostMaxVariance("levelNoise", levelNoise);
        Validate.NonNegative("slopeNoise", slopeNoise);
        Validate.AtMostMaxVariance("slopeNoise", slopeNoise);
        LevelNoise = levelNoise;
        SlopeNoise = slopeNoise;
    }

    /// <summary>q_μ.</summary>
    public double LevelNoise { get; }

    /// <summary>q_β.</summary>
    public double SlopeNoise { get; }

    /// <inheritdoc />
    public override string Name => "trend";

    /// <inheritdoc />
    public override int StateDimension => 2;

    /// <inheritdoc />
    public override int ObservationDimension => 1;

    /// <inheritdoc />
    public override void Discretize(double timeGap, Span<double> transition, Span<double> noise, Span<double> offset)
    {
        var (f01, q00, q01, q11) = IntegratedPair(timeGap, SlopeNoise);
        transition[0] = 1.0;
        transition[1] = f01;
        transition[3] = 1.0;
        noise[0] = q00 + (LevelNoise * timeGap);
        noise[1] = q01;
        noise[2] = q01;
        noise[3] = q11;
    }

    /// <inheritdoc />
    public override void WriteObservation(Span<double> observation) => observation[0] = 1.0;
}
