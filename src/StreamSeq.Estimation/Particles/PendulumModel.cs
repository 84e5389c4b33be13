using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Particles;

/// <summary>
/// A noisy pendulum observed through the sine of its angle (spec model type <c>pendulum</c>).
/// </summary>
/// <remarks>
/// State h = [θ, ω]. With Δ = <see cref="TimeStep"/>, g = <see cref="Gravity"/> and q_c = <see cref="AccelerationNoise"/>:
/// h_t = [θ + ω Δ, ω − g sin(θ) Δ] evaluated at h_{t−1}, plus q_t ~ N(0, Q), Q = q_c [[Δ³/3, Δ²/2], [Δ²/2, Δ]];
/// y_t = sin(θ_t) + r_t, r_t ~ N(0, <see cref="ObservationNoise"/>). h_0 ~ N(<see cref="InitialMean"/>,
/// <see cref="InitialCovariance"/>) one step before the first observation (propagated once to give the prior of h_1).
/// Discrete time: every observation advances Δ, whatever the gap. Q is positive definite (det Q = q_c² Δ⁴/12), so
/// the transition density N(h_t; f(h_{t−1}), Q) is available for marginal smoothing (<see cref="ITransitionDensity"/>).
/// </remarks>
public sealed class PendulumModel : IStateSpaceModel, ITransitionDensity
{
    private const double Log2Pi = 1.8378770664093453;
    private readonly double[] initialMean;
    private readonly double[] initialCovariance;
    private readonly double[] initialFactor = new double[4];
    private readonly double[] noiseFactor = new double[4];
    private readonly double halfLogObservationNoise;

    /// <summary>Creates the model; errors name the spec field.</summary>
    public PendulumModel(
        double timeStep = 0.01,
        double gravity = 9.81,
        double accelerationNoise = 0.1,
        double observationNoise = 0.01,
        ReadOnlySpan<double> initialMean = default,
        ReadOnlySpan<double> initialCovariance = default)
    {
        Validate.Positive("model.timeStep", timeStep);
        Validate.Finite("model.gravity", [gravity]);
        Validate.Positive("model.accelerationNoise", accelerationNoise);
        Validate.AtMostMaxVariance("model.accelerationNoise", accelerationNoise);
        Validate.Positive("model.observationNoise", observationNoise);
        Validate.AtMostMaxVariance("model.observationNoise", observationNoise);
        this.initialMean = initialMean.IsEmpty ? [1.0, 0.0] : initialMean.ToArray();
        this.initialCovariance = initialCovariance.IsEmpty ? [0.01, 0.0, 0.0, 0.04] : initialCovariance.ToArray();
        Validate.Length("model.initialMean", this.initialMean, 2, "a vector of 2");
        Validate.Finite("model.initialMean", this.initialMean);
        Validate.AtMostMaxVariance("model.initialCovariance", this.initialCovariance, 2);
        Validate.Covariance("model.initialCovariance", this.initialCovariance, 2);
        TimeStep = timeStep;
        Gravity = gravity;
        AccelerationNoise = accelerationNoise;
        ObservationNoise = observationNoise;
        halfLogObservationNoise = 0.5 * (Log2Pi + Math.Log(observationNoise));
        LinearGaussianParticleModel.Factor(this.initialCovariance, 2, initialFactor);
        var dt = timeStep;
        double[] q = [accelerationNoise * dt * dt * dt / 3.0, accelerationNoise * dt * dt / 2.0, accelerationNoise * dt * dt / 2.0, accelerationNoise * dt];
        LinearGaussianParticleModel.Factor(q, 2, noiseFactor);
    }

    /// <summary>Δ, model time advanced per observation.</summary>
    public double TimeStep { get; }

    /// <summary>g.</summary>
    public double Gravity { get; }

    /// <summary>q_c, spectral density of the angular-acceleration noise.</summary>
    public double AccelerationNoise { get; }

    /// <summary>Variance of the observation noise.</summary>
    public double ObservationNoise { get; }

    /// <summary>Mean of h_0 = [θ_0, ω_0].</summary>
    public ReadOnlySpan<double> InitialMean => initialMean;

    /// <summary>Covariance of h_0 (2×2, row-major).</summary>
    public ReadOnlySpan<double> InitialCovariance => initialCovariance;

    /// <inheritdoc />
    public int StateDimension => 2;

    /// <inheritdoc />
    public int ObservationDimension => 1;

    /// <inheritdoc />
    public bool UsesTimeGap => false;

    /// <inheritdoc />
    public IParticleProposal? Proposal => null;

    /// <inheritdoc />
    public void SampleInitial(Span<double> particles, int count, ref ParticleRandom random)
    {
        var theta = particles[..count];
        var omega = particles.Slice(count, count);
        for (var i = 0; i < count; i++)
        {
            var z0 = random.NextGaussian();
            var z1 = random.NextGaussian();
            theta[i] = initialMean[0] + (initialFactor[0] * z0);
            omega[i] = initialMean[1] + (initialFactor[2] * z0) + (initialFactor[3] * z1);
        }

        SampleTransition(particles, count, 1.0, 1, ref random);
    }

    /// <inheritdoc />
    public void SampleTransition(Span<double> particles, int count, double timeGap, long step, ref ParticleRandom random)
    {
        var theta = particles[..count];
        var omega = particles.Slice(count, count);
        var dt = TimeStep;
        var gdt = Gravity * dt;
        var l00 = noiseFactor[0];
        var l10 = noiseFactor[2];
        var l11 = noiseFactor[3];
        for (var i = 0; i < count; i++)
        {
            var th = theta[i];
            var om = omega[i];
            var z0 = random.NextGaussian();
            var z1 = random.NextGaussian();
            theta[i] = th + (om * dt) + (l00 * z0);
            omega[i] = om - (gdt * Math.Sin(th)) + (l10 * z0) + (l11 * z1);
        }
    }

    /// <inheritdoc />
    public bool HasTransitionDensity(double timeGap, long step) => noiseFactor[0] > 0.0 && noiseFactor[3] > 0.0;

    /// <inheritdoc />
    /// <remarks>log N(h_t; [θ + ω Δ, ω − g sin(θ) Δ], Q), whitened with the Cholesky factor L of Q that
    /// <see cref="SampleTransition"/> draws with.</remarks>
    public void TransitionLogDensity(ReadOnlySpan<double> previous, int previousCount, ReadOnlySpan<double> next, int nextCount, double timeGap, long step, Span<double> logDensity)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var count = previousCount;
        var meanTheta = arena.TakeUninitialized(count);
        var meanOmega = arena.TakeUninitialized(count);
        var dt = TimeStep;
        var gdt = Gravity * dt;
        for (var i = 0; i < count; i++)
        {
            var th = previous[i];
            var om = previous[count + i];
            meanTheta[i] = th + (om * dt);
            meanOmega[i] = om - (gdt * Math.Sin(th));
        }

        var inverse00 = 1.0 / noiseFactor[0];
        var inverse11 = 1.0 / noiseFactor[3];
        var l10 = noiseFactor[2];
        var constant = -Log2Pi - Math.Log(noiseFactor[0]) - Math.Log(noiseFactor[3]);
        for (var j = 0; j < nextCount; j++)
        {
            var theta = next[j];
            var omega = next[nextCount + j];
            var row = logDensity.Slice(j * count, count);
            for (var i = 0; i < count; i++)
            {
                var z0 = (theta - meanTheta[i]) * inverse00;
                var z1 = (omega - meanOmega[i] - (l10 * z0)) * inverse11;
                row[i] = constant - (0.5 * ((z0 * z0) + (z1 * z1)));
            }
        }

        arena.Release(mark);
    }

    /// <inheritdoc />
    /// <remarks>Linearised: y ~ N(sin θ̄, cos² θ̄ Q_00 + r) with θ̄ = θ + ω Δ.</remarks>
    public void LookAheadLogLikelihood(ReadOnlySpan<double> previous, int count, ReadOnlySpan<double> observation, double timeGap, long step, Span<double> logLikelihood)
    {
        var y = observation[0];
        var q00 = noiseFactor[0] * noiseFactor[0];
        for (var i = 0; i < count; i++)
        {
            var theta = previous[i] + (previous[count + i] * TimeStep);
            var c = Math.Cos(theta);
            var variance = (c * c * q00) + ObservationNoise;
            var r = y - Math.Sin(theta);
            logLikelihood[i] = -0.5 * (Log2Pi + Math.Log(variance) + (r * r / variance));
        }
    }

    /// <inheritdoc />
    public void LogLikelihood(ReadOnlySpan<double> particles, int count, ReadOnlySpan<double> observation, Span<double> logLikelihood)
    {
        var y = observation[0];
        var h = -0.5 / ObservationNoise;
        for (var i = 0; i < count; i++)
        {
            var r = y - Math.Sin(particles[i]);
            logLikelihood[i] = -halfLogObservationNoise + (h * r * r);
        }
    }

    /// <inheritdoc />
    public void EmissionMean(ReadOnlySpan<double> particles, int count, Span<double> mean)
    {
        for (var i = 0; i < count; i++)
        {
            mean[i] = Math.Sin(particles[i]);
        }
    }

    /// <inheritdoc />
    public void AddEmissionCovariance(ReadOnlySpan<double> particles, int count, ReadOnlySpan<double> weights, Span<double> covariance) =>
        covariance[0] += ObservationNoise;
}
