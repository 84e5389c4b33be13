using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Particles;

/// <summary>
/// The univariate nonstationary growth model, the classic particle-filter benchmark (spec model type <c>growth</c>).
/// </summary>
/// <remarks>
/// h_0 ~ N(<see cref="InitialMean"/>, <see cref="InitialVariance"/>) one step before the first observation;
/// h_t = h_{t−1}/2 + 25 h_{t−1}/(1 + h_{t−1}²) + 8 cos(1.2 t) + v_t, v_t ~ N(0, <see cref="TransitionNoise"/>), with t
/// the 1-based index of the new state; y_t = h_t²/20 + w_t, w_t ~ N(0, <see cref="ObservationNoise"/>). The prior at
/// the first observation is therefore h_1 = f(h_0, 1) + v_1, sampled by propagating h_0 once; a stream re-initialised at
/// step t draws h_{t−1} from that prior and propagates it with step t's transition (<see cref="SampleInitialAt"/>). Discrete time: the
/// gap between observations is ignored. The transition density N(h_t; f(h_{t−1}, t), q) is available for marginal
/// smoothing (<see cref="ITransitionDensity"/>; q is positive).
/// </remarks>
public sealed class NonstationaryGrowthModel : IStateSpaceModel, ITransitionDensity
{
    private const double Log2Pi = 1.8378770664093453;
    private readonly double initialSd;
    private readonly double transitionSd;
    private readonly double halfLogObservationNoise;
    private readonly double inverseObservationNoise;

    /// <summary>Creates the model; variances must be positive (errors name the spec field).</summary>
    public NonstationaryGrowthModel(double initialMean = 0.0, double initialVariance = 5.0, double transitionNoise = 10.0, double observationNoise = 1.0)
    {
        Validate.Finite("model.initialMean", [initialMean]);
        Validate.Positive("model.initialVariance", initialVariance);
        Validate.AtMostMaxVariance("model.initialVariance", initialVariance);
        Validate.Positive("model.transitionNoise", transitionNoise);
        Validate.AtMostMaxVariance("model.transitionNoise", transitionNoise);
        Validate.Positive("model.observationNoise", observationNoise);
        Validate.AtMostMaxVariance("model.observationNoise", observationNoise);
        InitialMean = initialMean;
        InitialVariance = initialVariance;
        TransitionNoise = transitionNoise;
        ObservationNoise = observationNoise;
        initialSd = Math.Sqrt(initialVariance);
        transitionSd = Math.Sqrt(transitionNoise);
        halfLogObservationNoise = 0.5 * (Log2Pi + Math.Log(observationNoise));
        inverseObservationNoise = 1.0 / observationNoise;
    }

    /// <summary>Mean of h_0.</summary>
    public double InitialMean { get; }

    /// <summary>Variance of h_0.</summary>
    public double InitialVariance { get; }

    /// <summary>Variance of the transition noise v_t.</summary>
    public double TransitionNoise { get; }

    /// <summary>Variance of the observation noise w_t.</summary>
    public double ObservationNoise { get; }

    /// <inheritdoc />
    public int StateDimension => 1;

    /// <inheritdoc />
    public int ObservationDimension => 1;

    /// <inheritdoc />
    public bool UsesTimeGap => false;

    /// <inheritdoc />
    public IParticleProposal? Proposal => null;

    /// <inheritdoc />
    public void SampleInitial(Span<double> particles, int count, ref ParticleRandom random) =>
        SampleInitialAt(particles, count, 1, ref random);

    /// <summary>
    /// Draws h_{t−1} ~ N(<see cref="InitialMean"/>, <see cref="InitialVariance"/>) one step before the reading of step
    /// t = <paramref name="step"/> and propagates it with that step's transition (drift 8 cos(1.2 t)), so that a
    /// stream re-initialised at step t carries on with the model's dynamics at the step it has reached.
    /// </summary>
    public void SampleInitialAt(Span<double> particles, int count, long step, ref ParticleRandom random)
    {
        var x = particles[..count];
        for (var i = 0; i < x.Length; i++)
        {
            x[i] = InitialMean + (initialSd * random.NextGaussian());
        }

        SampleTransition(particles, count, 1.0, step, ref random);
    }

    /// <inheritdoc />
    public void SampleTransition(Span<double> particles, int count, double timeGap, long step, ref ParticleRandom random)
    {
        // h' = 25 (h/(1 + h²)) + (h/2 + (sd z + 8 cos(1.2 t))): one fused vector pass over the normal draws.
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var x = particles[..count];
        var z = arena.TakeUninitialized(count);
        random.FillGaussian(z);
        var drift = 8.0 * Math.Cos(1.2 * step);
        ref var xr = ref MemoryMarshal.GetReference(x);
        ref var zr = ref MemoryMarshal.GetReference(z);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var one = Vector256<double>.One;
            var half = Vector256.Create(0.5);
            var sd = Vector256.Create(transitionSd);
            var driftV = Vector256.Create(drift);
            var gain = Vector256.Create(25.0);
            for (; i <= count - 4; i += 4)
            {
                var u = (nuint)i;
                var h = Vector256.LoadUnsafe(ref xr, u);
                var ratio = h / ((h * h) + one);
                var noise = (Vector256.LoadUnsafe(ref zr, u) * sd) + driftV;
                ((ratio * gain) + ((h * half) + noise)).StoreUnsafe(ref xr, u);
            }
        }

        for (; i < count; i++)
        {
            var h = x[i];
            var ratio = h / ((h * h) + 1.0);
            var noise = (z[i] * transitionSd) + drift;
            x[i] = (ratio * 25.0) + ((h * 0.5) + noise);
        }

        arena.Release(mark);
    }

    /// <inheritdoc />
    public bool HasTransitionDensity(double timeGap, long step) => true;

    /// <inheritdoc />
    /// <remarks>log N(h_t; μ, q) with μ = h_{t−1}/2 + 25 h_{t−1}/(1 + h_{t−1}²) + 8 cos(1.2 t), as
    /// <see cref="SampleTransition"/> draws it.</remarks>
    public void TransitionLogDensity(ReadOnlySpan<double> previous, int previousCount, ReadOnlySpan<double> next, int nextCount, double timeGap, long step, Span<double> logDensity)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var mean = arena.TakeUninitialized(previousCount);
        var drift = 8.0 * Math.Cos(1.2 * step);
        for (var i = 0; i < previousCount; i++)
        {
            var h = previous[i];
            mean[i] = (25.0 * (h / ((h * h) + 1.0))) + ((h * 0.5) + drift);
        }

        ParticleMath.GaussianTransitionRows(mean, previousCount, next, nextCount, TransitionNoise, logDensity);
        arena.Release(mark);
    }

    /// <inheritdoc />
    /// <remarks>With μ = f(h_{t−1}, t) and h_t ~ N(μ, q): E[y] = (μ² + q)/20 and Var[y] = (4 μ² q + 2 q²)/400 + r;
    /// the look-ahead is the Gaussian with these moments.</remarks>
    public void LookAheadLogLikelihood(ReadOnlySpan<double> previous, int count, ReadOnlySpan<double> observation, double timeGap, long step, Span<double> logLikelihood)
    {
        var drift = 8.0 * Math.Cos(1.2 * step);
        var y = observation[0];
        var q = TransitionNoise;
        for (var i = 0; i < count; i++)
        {
            var v = previous[i];
            var mu = (0.5 * v) + (25.0 * v / (1.0 + (v * v))) + drift;
            var mean = ((mu * mu) + q) / 20.0;
            var variance = (((4.0 * mu * mu * q) + (2.0 * q * q)) / 400.0) + ObservationNoise;
            var r = y - mean;
            logLikelihood[i] = -0.5 * (Log2Pi + Math.Log(variance) + (r * r / variance));
        }
    }

    /// <inheritdoc />
    public void LogLikelihood(ReadOnlySpan<double> particles, int count, ReadOnlySpan<double> observation, Span<double> logLikelihood)
    {
        var y = observation[0];
        var c = -halfLogObservationNoise;
        var h = -0.5 * inverseObservationNoise;
        var x = particles[..count];
        var l = logLikelihood[..count];
        for (var i = 0; i < x.Length; i++)
        {
            var r = y - (x[i] * x[i] * 0.05);
            l[i] = c + (h * r * r);
        }
    }

    /// <inheritdoc />
    public void EmissionMean(ReadOnlySpan<double> particles, int count, Span<double> mean)
    {
        var x = particles[..count];
        var e = mean[..count];
        TensorPrimitives.Multiply(x, x, e);
        TensorPrimitives.Multiply(e, 0.05, e);
    }

    /// <inheritdoc />
    public void AddEmissionCovariance(ReadOnlySpan<double> particles, int count, ReadOnlySpan<double> weights, Span<double> covariance) =>
        covariance[0] += ObservationNoise;
}
