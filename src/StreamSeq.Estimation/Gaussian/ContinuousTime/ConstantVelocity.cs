using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian.ContinuousTime;

/// <summary>
/// Constant velocity (white-noise acceleration) in d spatial dimensions. State [p_1..p_d, v_1..v_d]; per axis
/// F = [[1, Δt], [0, 1]] and Q = q [[Δt³/3, Δt²/2], [Δt²/2, Δt]]; the observation reads the positions.
/// </summary>
/// <remarks><see cref="AccelerationNoise"/> is the spectral density q of the acceleration.</remarks>
public sealed class ConstantVelocity : ContinuousComponent
{
    /// <summary>Creates the component.</summary>
    public ConstantVelocity(double accelerationNoise, int dimensions = 1)
    {
        Validate.NonNegative("accelerationNoise", accelerationNoise);
        Validate.AtMostMaxVariance("accelerationNoise", accelerationNoise);
        if (dimensions < 1)
        {
            throw new Abstractions.ModelValidationException("dimensions", $"must be at least 1, got {dimensions}.");
        }

        AccelerationNoise = accelerationNoise;
        Dimensions = dimensions;
    }

    /// <summary>q.</summary>
    public double AccelerationNoise { get; }

    /// <summary>Spatial dimensions d.</summary>
    public int Dimensions { get; }

    /// <inheritdoc />
    public override string Name => "velocity";

    /// <inheritdoc />
    public override int StateDimension => 2 * Dimensions;

    /// <inheritdoc />
    public override int ObservationDimension => Dimensions;

    /// <inheritdoc />
    public override void Discretize(double timeGap, Span<double> transition, Span<double> noise, Span<double> offset)
    {
        var d = Dimensions;
        var n = 2 * d;
        var (f01, q00, q01, q11) = IntegratedPair(timeGap, AccelerationNoise);
        for (var a = 0; a < d; a++)
        {
            int p = a, v = d + a;
            transition[(p * n) + p] = 1.0;
            transition[(p * n) + v] = f01;
            transition[(v * n) + v] = 1.0;
            noise[(p * n) + p] = q00;
            noise[(p * n) + v] = q01;
            noise[(v * n) + p] = q01;
            noise[(v * n) + v] = q11;
        }
    }

    /// <inheritdoc />
    public override void WriteObservation(Span<double> observation)
    {
        var d = Dimensions;
        var n = 2 * d;
        for (var a = 0; a < d; a++)
        {
            observation[(a * n) + a] = 1.0;
        }
    }
}
