using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian.ContinuousTime;

/// <summary>
/// A random walk level per observed dimension: dμ = σ dW, so μ_{t+Δt} = μ_t + η with η ~ N(0, q Δt I).
/// </summary>
/// <remarks><see cref="LevelNoise"/> is the diffusion rate q (variance per unit time).</remarks>
public sealed class LocalLevel : ContinuousComponent
{
    /// <summary>Creates the component.</summary>
    public LocalLevel(double levelNoise, int dimensions = 1)
    {
        Validate.NonNegative("levelNoise", levelNoise);
        Validate.AtMostMaxVariance("levelNoise", levelNoise);
        if (dimensions < 1)
        {
            throw new Abstractions.ModelValidationException("dimensions", $"must be at least 1, got {dimensions}.");
        }

        LevelNoise = levelNoise;
        Dimensions = dimensions;
    }

    /// <summary>q, the level's variance per unit time.</summary>
    public double LevelNoise { get; }

    /// <summary>Number of independent levels (one per observed dimension).</summary>
    public int Dimensions { get; }

    /// <inheritdoc />
    public override string Name => "level";

    /// <inheritdoc />
    public override int StateDimension => Dimensions;

    /// <inheritdoc />
    public override int ObservationDimension => Dimensions;

    /// <inheritdoc />
    public override void Discretize(double timeGap, Span<double> transition, Span<double> noise, Span<double> offset)
    {
        var d = Dimensions;
        for (var i = 0; i < d; i++)
        {
            transition[(i * d) + i] = 1.0;
            noise[(i * d) + i] = LevelNoise * timeGap;
        }
    }

    /// <inheritdoc />
    public override void WriteObservation(Span<double> observation)
    {
        var d = Dimensions;
        for (var i = 0; i < d; i++)
        {
            observation[(i * d) + i] = 1.0;
        }
    }
}
