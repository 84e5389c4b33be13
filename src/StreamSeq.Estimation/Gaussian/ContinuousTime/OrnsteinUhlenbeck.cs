using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian.ContinuousTime;

/// <summary>
/// A mean-reverting level: dx = −θ (x − μ) dt + σ dW. Over a gap Δt, F = e^{−θΔt}, c = μ (1 − e^{−θΔt}) and
/// Q = σ²/(2θ) (1 − e^{−2θΔt}). The default prior is the stationary law N(μ, σ²/(2θ)).
/// </summary>
/// <remarks><see cref="MeanReversion"/> is θ, <see cref="Mean"/> is μ and <see cref="Volatility"/> is σ.</remarks>
public sealed class OrnsteinUhlenbeck : ContinuousComponent
{
    /// <summary>Creates the component.</summary>
    public OrnsteinUhlenbeck(double meanReversion, double mean, double volatility)
    {
        Validate.Positive("meanReversion", meanReversion);
        Validate.Finite("mean", [mean]);
        Validate.NonNegative("volatility", volatility);
        Validate.AtMostMaxDeviation("volatility", volatility);
        MeanReversion = meanReversion;
        Mean = mean;
        Volatility = volatility;
    }

    /// <summary>θ.</summary>
    public double MeanReversion { get; }

    /// <summary>μ.</summary>
    public double Mean { get; }

    /// <summary>σ.</summary>
    public double Volatility { get; }

    /// <inheritdoc />
    public override string Name => "ou";

    /// <inheritdoc />
    public override int StateDimension => 1;

    /// <inheritdoc />
    public override int ObservationDimension => 1;

    /// <inheritdoc />
    public override void Discretize(double timeGap, Span<double> transition, Span<double> noise, Span<double> offset)
    {
        var decay = Math.Exp(-MeanReversion * timeGap);
        transition[0] = decay;
        offset[0] = Mean * -ElementaryFunctions.ExpM1(-MeanReversion * timeGap);
        noise[0] = Volatility * Volatility / (2.0 * MeanReversion) * -ElementaryFunctions.ExpM1(-2.0 * MeanReversion * timeGap);
    }

    /// <inheritdoc />
    public override void WriteObservation(Span<double> observation) => observation[0] = 1.0;

    /// <inheritdoc />
    public override void WriteInitial(Span<double> mean, Span<double> covariance, Span<double> diffuse)
    {
        mean[0] = Mean;
        covariance[0] = Volatility * Volatility / (2.0 * MeanReversion);
        diffuse[0] = 0.0;
    }
}
