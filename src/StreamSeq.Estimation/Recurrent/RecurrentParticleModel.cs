using System.Runtime.CompilerServices;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Particles;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// A trained recurrent net as a particle filter model over its hidden state: the same generative reading as
/// <see cref="RecurrentStateSpace"/>, sampled exactly instead of through sigma points.
/// </summary>
/// <remarks>
/// <para>Particle state [h (S), z (m)]: h_t = cell(h_{t-1}, [z_{t-1}, u_t]) + w_t with w_t ~ N(0, diag(q)), the latent
/// signal z_t ~ N(ŷ(h'_t), Σ(h'_t)) drawn from the head at the cell's output h'_t (before w_t, as in the unscented
/// model), and y_t = z_t + v_t with v_t ~ N(0, R). Prior: h_1 = cell(h_0, [y_0, u_1]) + N(0, diag(initialVariance)),
/// z_1 ~ N(ŷ(h_1), Σ(h_1)), with h_0 = <c>initialHidden</c>/<c>initialCell</c> (default 0).</para>
/// <para>Controls: u_t is the control of the reading at t, which <see cref="ParticleFilter"/> passes to the transition
/// into t, to the look-ahead and, for the first reading (and a re-initialised step, which is assimilated as a first
/// reading), to the prior of h_1, so with no noise the particles follow the deterministic net on the same inputs. A
/// missing control (none given, or NaN components) enters the net as 0 after <c>controlNormalization</c>, as in
/// <see cref="RecurrentEstimator"/>. The control-free methods of <see cref="IStateSpaceModel"/> (and a forecast, whose
/// future controls are not known) treat every control as missing; <see cref="SampleInitial(Span{double}, int, ref ParticleRandom)"/> draws that
/// prior, which a filter reports before its first reading. The look-ahead density for the auxiliary filter is the exact
/// N(y; ŷ(h'), Σ(h') + R) of each particle's noise-free step.</para>
/// </remarks>
public sealed class RecurrentParticleModel : IStateSpaceModel, IControlledStateSpaceModel
{
    private const double Log2Pi = 1.8378770664093453;
    private const int StackLimit = 2048;
    private readonly IRecurrentBackend backend;
    private readonly RecurrentLayout layout;
    private readonly int s;
    private readonly int m;
    private readonly double[] processDeviation;
    private readonly double[] initialDeviation;
    private readonly double[] observationNoise;
    private readonly double[] observationFactor;
    private readonly double observationLogDeterminant;
    private readonly double[] firstState;
    private readonly double[] firstMean;
    private readonly double[] firstFactor;

    /// <summary>Creates the model; errors name the spec fields.</summary>
    /// <param name="backend">The trained network and head (thread-safe).</param>
    /// <param name="layout">Input and head interpretation.</param>
    /// <param name="processNoise">q (S values or one for all).</param>
    /// <param name="observationNoise">R, m×m, positive definite.</param>
    /// <param name="initialVariance">Variance of h_1 (S values or one for all).</param>
    public RecurrentParticleModel(IRecurrentBackend backend, RecurrentLayout layout, ReadOnlySpan<double> processNoise, ReadOnlySpan<double> observationNoise, ReadOnlySpan<double> initialVariance)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(layout);
        this.backend = backend;
        this.layout = layout;
        s = backend.StateSize;
        m = layout.ObservationDimension;
        processDeviation = Deviations("processNoise", processNoise, s);
        initialDeviation = Deviations("initialVariance", initialVariance, s);
        if (observationNoise.Length != m * m)
        {
            throw new ModelValidationException("observationNoise", $"must be {m}x{m}, got {observationNoise.Length} values.");
        }

        this.observationNoise = observationNoise.ToArray();
        observationFactor = observationNoise.ToArray();
        if (!Numerics.Dense.Cholesky(observationFactor, m))
        {
            throw new ModelValidationException("observationNoise", "must be positive definite (the particle weights need the sensor's density).");
        }

        for (var i = 0; i < m; i++)
        {
            observationLogDeterminant += 2.0 * Math.Log(observationFactor[(i * m) + i]);
        }

        firstState = new double[s];
        firstMean = new double[m];
        firstFactor = new double[m * m];
        if (!RecurrentStateSpace.FirstStep(backend, layout, default, firstState, firstMean, firstFactor))
        {
            throw new ModelValidationException("weights", "the network's first prediction (from the initial state) is not finite.");
        }
    }

    /// <inheritdoc />
    public int StateDimension => s + m;

    /// <inheritdoc />
    public int ObservationDimension => m;

    /// <inheritdoc />
    public bool UsesTimeGap => false;

    /// <summary>Length of the control input u_t the net reads besides y_{t-1} (<see cref="RecurrentLayout.ControlDimension"/>, 0 for none).</summary>
    public int ControlDimension => layout.ControlDimension;

    /// <inheritdoc />
    public IParticleProposal? Proposal => null;

    /// <inheritdoc />
    public void SampleInitial(Span<double> particles, int count, ref ParticleRandom random) =>
        SampleInitial(firstState, firstMean, firstFactor, particles, count, ref random);

    /// <summary>The prior given the first reading's control: h_1 = cell(h_0, [y_0, u_1]); the model's own prior (controls
    /// missing) when that step is not finite for this control.</summary>
    [SkipLocalsInit]
    void IControlledStateSpaceModel.SampleInitial(Span<double> particles, int count, ReadOnlySpan<double> control, ref ParticleRandom random)
    {
        if (control.IsEmpty || layout.ControlDimension == 0)
        {
            SampleInitial(particles, count, ref random);
            return;
        }

        Span<double> state = s <= StackLimit ? stackalloc double[s] : new double[s];
        Span<double> mean = stackalloc double[m];
        Span<double> factor = stackalloc double[m * m];
        if (RecurrentStateSpace.FirstStep(backend, layout, control, state, mean, factor))
        {
            SampleInitial(state, mean, factor, particles, count, ref random);
        }
        else
        {
            SampleInitial(particles, count, ref random);
        }
    }

    /// <inheritdoc />
    public void SampleTransition(Span<double> particles, int count, double timeGap, long step, ref ParticleRandom random) =>
        SampleTransition(particles, count, default, ref random);

    /// <inheritdoc />
    void IControlledStateSpaceModel.SampleTransition(Span<double> particles, int count, double timeGap, long step, ReadOnlySpan<double> control, ref ParticleRandom random) =>
        SampleTransition(particles, count, control, ref random);

    /// <inheritdoc />
    public void LookAheadLogLikelihood(ReadOnlySpan<double> previous, int count, ReadOnlySpan<double> observation, double timeGap, long step, Span<double> logLikelihood) =>
        LookAhead(previous, count, observation, default, logLikelihood);

    /// <inheritdoc />
    void IControlledStateSpaceModel.LookAheadLogLikelihood(ReadOnlySpan<double> previous, int count, ReadOnlySpan<double> observation, double timeGap, long step, ReadOnlySpan<double> control, Span<double> logLikelihood) =>
        LookAhead(previous, count, observation, control, logLikelihood);

    private void SampleInitial(ReadOnlySpan<double> state, ReadOnlySpan<double> mean, ReadOnlySpan<double> factor, Span<double> particles, int count, ref ParticleRandom random)
    {
        for (var i = 0; i < count; i++)
        {
            for (var d = 0; d < s; d++)
            {
                particles[(d * count) + i] = state[d] + (initialDeviation[d] * random.NextGaussian());
            }

            SampleSignal(mean, factor, particles, count, i, ref random);
        }
    }

    [SkipLocalsInit]
    private void SampleTransition(Span<double> particles, int count, ReadOnlySpan<double> control, ref ParticleRandom random)
    {
        var n = s + m;
        Span<double> x = n <= StackLimit ? stackalloc double[n] : new double[n];
        Span<double> mean = stackalloc double[m];
        Span<double> factor = stackalloc double[m * m];
        for (var i = 0; i < count; i++)
        {
            Gather(particles, count, i, x);
            var ok = Advance(x, control, mean, factor);
            for (var d = 0; d < s; d++)
            {
                particles[(d * count) + i] = x[d] + (processDeviation[d] * random.NextGaussian());
            }

            if (ok)
            {
                SampleSignal(mean, factor, particles, count, i, ref random);
            }
            else
            {
                for (var a = 0; a < m; a++)
                {
                    particles[((s + a) * count) + i] = double.NaN;
                }
            }
        }
    }

    [SkipLocalsInit]
    private void LookAhead(ReadOnlySpan<double> previous, int count, ReadOnlySpan<double> observation, ReadOnlySpan<double> control, Span<double> logLikelihood)
    {
        var n = s + m;
        Span<double> x = n <= StackLimit ? stackalloc double[n] : new double[n];
        Span<double> mean = stackalloc double[m];
        Span<double> factor = stackalloc double[m * m];
        Span<double> covariance = stackalloc double[m * m];
        for (var i = 0; i < count; i++)
        {
            Gather(previous, count, i, x);
            if (!Advance(x, control, mean, factor))
            {
                logLikelihood[i] = double.NegativeInfinity;
                continue;
            }

            // Cholesky factor of Σ + R, then the density of the observed components.
            layout.Covariance(factor, covariance);
            for (var k = 0; k < m * m; k++)
            {
                covariance[k] += observationNoise[k];
            }

            if (!Numerics.Dense.Cholesky(covariance, m))
            {
                logLikelihood[i] = double.NegativeInfinity;
                continue;
            }

            var ll = layout.LogDensity(mean, covariance, observation, out _, out _);
            logLikelihood[i] = double.IsNaN(ll) ? double.NegativeInfinity : ll;
        }
    }

    /// <inheritdoc />
    [SkipLocalsInit]
    public void LogLikelihood(ReadOnlySpan<double> particles, int count, ReadOnlySpan<double> observation, Span<double> logLikelihood)
    {
        Span<double> z = stackalloc double[m];
        Span<double> w = stackalloc double[m];
        var complete = true;
        for (var a = 0; a < m; a++)
        {
            complete &= double.IsFinite(observation[a]);
        }

        for (var i = 0; i < count; i++)
        {
            for (var a = 0; a < m; a++)
            {
                z[a] = particles[((s + a) * count) + i];
            }

            double ll;
            if (complete)
            {
                // Forward substitution with the factor of R computed once.
                var quadratic = 0.0;
                for (var a = 0; a < m; a++)
                {
                    var v = observation[a] - z[a];
                    for (var b = 0; b < a; b++)
                    {
                        v -= observationFactor[(a * m) + b] * w[b];
                    }

                    w[a] = v / observationFactor[(a * m) + a];
                    quadratic += w[a] * w[a];
                }

                ll = -0.5 * ((m * Log2Pi) + observationLogDeterminant + quadratic);
            }
            else
            {
                ll = layout.LogDensity(z, observationFactor, observation, out _, out _);
            }

            logLikelihood[i] = double.IsFinite(ll) ? ll : double.NegativeInfinity;
        }
    }

    /// <inheritdoc />
    public void EmissionMean(ReadOnlySpan<double> particles, int count, Span<double> mean) =>
        particles.Slice(s * count, m * count).CopyTo(mean);

    /// <inheritdoc />
    public void AddEmissionCovariance(ReadOnlySpan<double> particles, int count, ReadOnlySpan<double> weights, Span<double> covariance)
    {
        var total = 0.0;
        for (var i = 0; i < count; i++)
        {
            total += weights[i];
        }

        for (var k = 0; k < m * m; k++)
        {
            covariance[k] += total * observationNoise[k];
        }
    }

    private static double[] Deviations(string field, ReadOnlySpan<double> variances, int length)
    {
        if (variances.Length != 1 && variances.Length != length)
        {
            throw new ModelValidationException(field, $"must be one number or {length} (one per network state value), got {variances.Length}.");
        }

        var result = new double[length];
        for (var i = 0; i < length; i++)
        {
            var v = variances.Length == 1 ? variances[0] : variances[i];
            if (!double.IsFinite(v) || v < 0.0)
            {
                throw new ModelValidationException(variances.Length == 1 ? field : $"{field}[{i}]", $"must be a finite, non-negative variance, got {v}.");
            }

            result[i] = Math.Sqrt(v);
        }

        return result;
    }

    private static void Gather(ReadOnlySpan<double> particles, int count, int i, Span<double> x)
    {
        for (var d = 0; d < x.Length; d++)
        {
            x[d] = particles[(d * count) + i];
        }
    }

    /// <summary>Steps the cell of one particle on [z, u] in place (x[..S] becomes the new h) and writes the head's
    /// moments; <paramref name="control"/> empty: u missing.</summary>
    [SkipLocalsInit]
    private bool Advance(Span<double> x, ReadOnlySpan<double> control, Span<double> mean, Span<double> factor)
    {
        var storageLength = backend.StorageLength;
        var storage = storageLength <= StackLimit ? stackalloc double[storageLength] : new double[storageLength];
        Span<double> input = stackalloc double[layout.InputSize];
        Span<double> raw = stackalloc double[backend.OutputSize];
        for (var a = 0; a < m; a++)
        {
            if (!double.IsFinite(x[s + a]))
            {
                return false;
            }
        }

        backend.WriteState(x[..s], storage);
        layout.BuildInput(x.Slice(s, m), control, input);
        backend.Step(input, storage, raw);
        backend.ReadState(storage, x[..s]);
        return layout.Moments(raw, mean, factor);
    }

    private void SampleSignal(ReadOnlySpan<double> mean, ReadOnlySpan<double> factor, Span<double> particles, int count, int i, ref ParticleRandom random)
    {
        Span<double> e = stackalloc double[m];
        random.FillGaussian(e);
        for (var a = 0; a < m; a++)
        {
            var v = mean[a];
            for (var b = 0; b <= a; b++)
            {
                v += factor[(a * m) + b] * e[b];
            }

            particles[((s + a) * count) + i] = v;
        }
    }
}
