using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian.ContinuousTime;

/// <summary>
/// Constant acceleration (white-noise jerk) in d dimensions. State [p_1..p_d, v_1..v_d, a_1..a_d]; per axis
/// F = [[1, Δt, Δt²/2], [0, 1, Δt], [0, 0, 1]] and Q = q [[Δt⁵/20, Δt⁴/8, Δt³/6], [Δt⁴/8, Δt³/3, Δt²/2],
/// [Δt³/6, Δt²/2, Δt]]; the observation reads the positions.
/// </summary>
/// <remarks><see cref="JerkNoise"/> is the spectral density q of the jerk.</remarks>
public sealed class ConstantAcceleration : ContinuousComponent
{
    /// <summary>Creates the component.</summary>
    public ConstantAcceleration(double jerkNoise, int dimensions = 1)
    {
        Validate.NonNegative("jerkNoise", jerkNoise);
        Validate.AtMostMaxVariance("jerkNoise", jerkNoise);
        if (dimensions < 1)
        {
            throw new Abstractions.ModelValidationException("dimensions", $"must be at least 1, got {dimensions}.");
        }

        JerkNoise = jerkNoise;
        Dimensions = dimensions;
    }

    /// <summary>q.</summary>
    public double JerkNoise { get; }

    /// <summary>Spatial dimensions d.</summary>
    public int Dimensions { get; }

    /// <inheritdoc />
    public override string Name => "acceleration";

    /// <inheritdoc />
    public override int StateDimension => 3 * Dimensions;

    /// <inheritdoc />
    public override int ObservationDimension => Dimensions;

    /// <inheritdoc />
    public override void Discretize(double timeGap, Span<double> transition, Span<double> noise, Span<double> offset)
    {
        var d = Dimensions;
        var n = 3 * d;
        var dt = timeGap;
        var dt2 = dt * dt;
        var dt3 = dt2 * dt;
        var q = JerkNoise;
        Span<double> qb = [dt3 * dt2 / 20.0, dt2 * dt2 / 8.0, dt3 / 6.0, dt2 * dt2 / 8.0, dt3 / 3.0, dt2 / 2.0, dt3 / 6.0, dt2 / 2.0, dt];
        Span<double> fb = [1.0, dt, dt2 / 2.0, 0.0, 1.0, dt, 0.0, 0.0, 1.0];
        for (var a = 0; a < d; a++)
        {
            for (var i = 0; i < 3; i++)
            {
                for (var j = 0; j < 3; j++)
                {
                    var r = (i * d) + a;
                    var c = (j * d) + a;
                    transition[(r * n) + c] = fb[(i * 3) + j];
                    noise[(r * n) + c] = q * qb[(i * 3) + j];
                }
            }
        }
    }

    /// <inheritdoc />
    public override void WriteObservation(Span<double> observation)
    {
        var d = Dimensions;
        var n = 3 * d;
        for (var a = 0; a < d; a++)
        {
            observation[(a * n) + a] = 1.0;
        }
    }
}
