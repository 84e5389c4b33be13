using System.Globalization;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Particles;

/// <summary>
/// The discrete-time stochastic volatility model (spec model type <c>stochastic-volatility</c>).
/// </summary>
/// <remarks>
/// h_t = φ h_{t−1} + σ η_t and y_t = β exp(h_t / 2) ε_t with η_t, ε_t ~ N(0, 1) independent; φ =
/// <see cref="Persistence"/> (|φ| &lt; 1), σ = <see cref="Volatility"/> (a standard deviation), β = <see cref="Scale"/>.
/// The prior of h_1 is the stationary N(0, σ²/(1 − φ²)) unless <see cref="InitialMean"/>/<see cref="InitialVariance"/>
/// are given. Discrete time: the gap is ignored. The transition density N(h_t; φ h_{t−1}, σ²) is available for
/// marginal smoothing (<see cref="ITransitionDensity"/>).
/// </remarks>
public sealed class StochasticVolatilityModel : IStateSpaceModel, ITransitionDensity
{
    private const double Log2Pi = 1.8378770664093453;
    private readonly double initialSd;
    private readonly double logScaleTerm;
    private readonly double inverseScaleSquared;

    /// <summary>Creates the model; errors name the spec field.</summary>
    public StochasticVolatilityModel(double persistence, double volatility, double scale, double? initialMean = null, double? initialVariance = null)
    {
        if (!(Math.Abs(persistence) < 1.0))
        {
            throw new ModelValidationException("model.persistence", $"must lie strictly between -1 and 1 (a stationary log-volatility), got {persistence}.");
        }

        Validate.Positive("model.volatility", volatility);
        Validate.Positive("model.scale", scale);
        Persistence = persistence;
        Volatility = volatility;
        Scale = scale;
        InitialMean = initialMean ?? 0.0;
        Validate.Finite("model.initialMean", [InitialMean]);
        InitialVariance = initialVariance ?? (volatility * volatility / (1.0 - (persistence * persistence)));
        if (initialVariance is { } given)
        {
            Validate.Positive("model.initialVariance", given);
            Validate.AtMostMaxVariance("model.initialVariance", given);
        }
        else if (!(InitialVariance <= Validate.MaxVariance))
        {
            // The stationary default follows from the volatility and persistence: naming model.initialVariance, which
            // the spec does not have, would send the user to the wrong field.
            throw new ModelValidationException(
                "model.volatility",
                string.Create(CultureInfo.InvariantCulture, $"with persistence {persistence:R} gives the log-volatility a stationary variance σ²/(1 − φ²) of {InitialVariance:R}, above the most a spec may hold ({Validate.MaxVariance:R}), and that is the default initialVariance; give model.initialVariance, or a smaller volatility."));
        }

        initialSd = Math.Sqrt(InitialVariance);
        logScaleTerm = 0.5 * (Log2Pi + (2.0 * Math.Log(scale)));
        inverseScaleSquared = 1.0 / (scale * scale);
    }

    /// <summary>φ.</summary>
    public double Persistence { get; }

    /// <summary>σ, standard deviation of the log-volatility innovation.</summary>
    public double Volatility { get; }

    /// <summary>β.</summary>
    public double Scale { get; }

    /// <summary>Mean of h_1.</summary>
    public double InitialMean { get; }

    /// <summary>Variance of h_1.</summary>
    public double InitialVariance { get; }

    /// <inheritdoc />
    public int StateDimension => 1;

    /// <inheritdoc />
    public int ObservationDimension => 1;

    /// <inheritdoc />
    public bool UsesTimeGap => false;

    /// <inheritdoc />
    public IParticleProposal? Proposal => null;

    /// <inheritdoc />
    public void SampleInitial(Span<double> particles, int count, ref ParticleRandom random)
    {
        for (var i = 0; i < count; i++)
        {
            particles[i] = InitialMean + (initialSd * random.NextGaussian());
        }
    }

    /// <inheritdoc />
    public void SampleTransition(Span<double> particles, int count, double timeGap, long step, ref ParticleRandom random)
    {
        var x = particles[..count];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = (Persistence * x[i]) + (Volatility * random.NextGaussian());
        }
    }

    /// <inheritdoc />
    public bool HasTransitionDensity(double timeGap, long step) => true;

    /// <inheritdoc />
    /// <remarks>log N(h_t; φ h_{t−1}, σ²).</remarks>
    public void TransitionLogDensity(ReadOnlySpan<double> previous, int previousCount, ReadOnlySpan<double> next, int nextCount, double timeGap, long step, Span<double> logDensity)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var mean = arena.TakeUninitialized(previousCount);
        System.Numerics.Tensors.TensorPrimitives.Multiply(previous[..previousCount], Persistence, mean);
        ParticleMath.GaussianTransitionRows(mean, previousCount, next, nextCount, Volatility * Volatility, logDensity);
        arena.Release(mark);
    }

    /// <inheritdoc />
    /// <remarks>y_t given h_{t−1} has mean 0 and variance β² exp(φ h_{t−1} + σ²/2); the look-ahead is that Gaussian.</remarks>
    public void LookAheadLogLikelihood(ReadOnlySpan<double> previous, int count, ReadOnlySpan<double> observation, double timeGap, long step, Span<double> logLikelihood)
    {
        var y2 = observation[0] * observation[0] * inverseScaleSquared;
        var half = 0.5 * Volatility * Volatility;
        for (var i = 0; i < count; i++)
        {
            var h = (Persistence * previous[i]) + half;
            logLikelihood[i] = -logScaleTerm - (0.5 * (h + (y2 * Math.Exp(-h))));
        }
    }

    /// <inheritdoc />
    public void LogLikelihood(ReadOnlySpan<double> particles, int count, ReadOnlySpan<double> observation, Span<double> logLikelihood)
    {
        // log N(y; 0, β² e^h) = −½ (log 2π + 2 log β + h + y² e^{−h} / β²).
        var y2 = observation[0] * observation[0] * inverseScaleSquared;
        for (var i = 0; i < count; i++)
        {
            var h = particles[i];
            logLikelihood[i] = -logScaleTerm - (0.5 * (h + (y2 * Math.Exp(-h))));
        }
    }

    /// <inheritdoc />
    public void EmissionMean(ReadOnlySpan<double> particles, int count, Span<double> mean) => mean[..count].Clear();

    /// <inheritdoc />
    public void AddEmissionCovariance(ReadOnlySpan<double> particles, int count, ReadOnlySpan<double> weights, Span<double> covariance)
    {
        var s = 0.0;
        for (var i = 0; i < count; i++)
        {
            var w = weights[i];
            if (w != 0.0)
            {
                s += w * Math.Exp(particles[i]);
            }
        }

        covariance[0] += Scale * Scale * s;
    }
}
