using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Particles;

/// <summary>
/// Any <see cref="LinearGaussianModel"/> as a particle-filter model (spec model type <c>linear</c>), so a particle
/// filter can be checked against the exact Kalman filter.
/// </summary>
/// <remarks>
/// h_1 ~ N(a_1, P_1); h_t = F(Δt) h_{t−1} + c(Δt) + w_t, w_t ~ N(0, Q(Δt)) from the model's <see cref="ILinearDynamics"/>;
/// y_t = H h_t + d + v_t, v_t ~ N(0, R). Gaussian draws use a lower-triangular square root (a Cholesky factor that
/// tolerates semi-definite matrices). R must be positive definite (the emission density must exist); the prior
/// must be proper (no exact diffuse initialisation) and the model must take no control input. When Q is positive
/// definite the model offers the locally optimal proposal p(h_t | h_{t−1}, y_t) for the guided filter, and its
/// transition density N(h_t; F h_{t−1} + c, Q) for marginal smoothing (<see cref="ITransitionDensity"/>); a singular Q
/// (a component that moves deterministically, or a zero gap) has no density, and smoothing traces ancestors there.
/// </remarks>
public sealed class LinearGaussianParticleModel : IStateSpaceModel, ITransitionDensity
{
    private const double Log2Pi = 1.8378770664093453;
    private readonly int n;
    private readonly int m;
    private readonly double[] initialFactor;
    private readonly double[]? fixedTransition;
    private readonly double[]? fixedFactor;
    private readonly double[]? fixedOffset;
    private readonly double[]? fixedNoise;

    /// <summary>Wraps a linear Gaussian model; errors name the spec field.</summary>
    public LinearGaussianParticleModel(LinearGaussianModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.IsDiffuse)
        {
            throw new ModelValidationException("model.initialization", "a particle filter needs a proper prior (initialMean and initialCovariance), not exact diffuse initialisation.");
        }

        if (model.ControlDimension > 0)
        {
            throw new ModelValidationException("model.control", "control inputs are not supported by the particle filter.");
        }

        var r = model.ObservationNoise.ToArray();
        if (!Dense.Cholesky(r, model.ObservationDimension))
        {
            throw new ModelValidationException("model.observationNoise", "must be positive definite for a particle filter (the emission density has to exist).");
        }

        Linear = model;
        n = model.StateDimension;
        m = model.ObservationDimension;
        initialFactor = new double[n * n];
        Factor(model.InitialCovariance, n, initialFactor);
        var proposalPossible = true;
        if (model.Dynamics.IsTimeInvariant)
        {
            fixedTransition = new double[n * n];
            var q = new double[n * n];
            fixedOffset = new double[n];
            model.Dynamics.Discretize(1.0, fixedTransition, q, fixedOffset);
            fixedFactor = new double[n * n];
            fixedNoise = q;
            var pd = q.ToArray();
            proposalPossible = Dense.Cholesky(pd, n);
            Factor(q, n, fixedFactor);
        }

        Proposal = proposalPossible ? new LinearGaussianOptimalProposal(this) : null;
    }

    /// <summary>The wrapped linear Gaussian model.</summary>
    public LinearGaussianModel Linear { get; }

    /// <inheritdoc />
    public int StateDimension => n;

    /// <inheritdoc />
    public int ObservationDimension => m;

    /// <inheritdoc />
    public bool UsesTimeGap => !Linear.Dynamics.IsTimeInvariant;

    /// <inheritdoc />
    public IParticleProposal? Proposal { get; }

    /// <summary>
    /// Lower-triangular L with L L' = A for a symmetric positive semi-definite A (n×n): Cholesky where a pivot is
    /// positive, a zero column where it vanishes.
    /// </summary>
    internal static void Factor(ReadOnlySpan<double> a, int n, Span<double> factor)
    {
        factor[..(n * n)].Clear();
        var scale = 0.0;
        for (var i = 0; i < n; i++)
        {
            scale = Math.Max(scale, Math.Abs(a[(i * n) + i]));
        }

        var eps = 1e-13 * Math.Max(scale, 1e-300);
        for (var j = 0; j < n; j++)
        {
            var d = a[(j * n) + j];
            for (var k = 0; k < j; k++)
            {
                d -= factor[(j * n) + k] * factor[(j * n) + k];
            }

            if (d <= eps)
            {
                continue;
            }

            var l = Math.Sqrt(d);
            factor[(j * n) + j] = l;
            for (var i = j + 1; i < n; i++)
            {
                var s = a[(i * n) + j];
                for (var k = 0; k < j; k++)
                {
                    s -= factor[(i * n) + k] * factor[(j * n) + k];
                }

                factor[(i * n) + j] = s / l;
            }
        }
    }

    /// <summary>F, lower factor of Q and c for a gap (scratch from the arena when the dynamics vary).</summary>
    internal void Transition(double timeGap, out ReadOnlySpan<double> transition, out ReadOnlySpan<double> noiseFactor, out ReadOnlySpan<double> offset, out ReadOnlySpan<double> noise)
    {
        if (fixedTransition is not null)
        {
            transition = fixedTransition;
            noiseFactor = fixedFactor;
            offset = fixedOffset;
            noise = fixedNoise;
            return;
        }

        var arena = ScratchArena.Current;
        var f = arena.Take(n * n);
        var qs = arena.Take(n * n);
        var c = arena.Take(n);
        var l = arena.Take(n * n);
        Linear.Dynamics.Discretize(timeGap, f, qs, c);
        Factor(qs, n, l);
        transition = f;
        noiseFactor = l;
        offset = c;
        noise = qs;
    }

    /// <inheritdoc />
    public void SampleInitial(Span<double> particles, int count, ref ParticleRandom random)
    {
        Span<double> z = stackalloc double[n];
        var a = Linear.InitialMean;
        for (var i = 0; i < count; i++)
        {
            for (var j = 0; j < n; j++)
            {
                z[j] = random.NextGaussian();
            }

            for (var r = 0; r < n; r++)
            {
                var s = a[r];
                for (var k = 0; k <= r; k++)
                {
                    s += initialFactor[(r * n) + k] * z[k];
                }

                particles[(r * count) + i] = s;
            }
        }
    }

    /// <inheritdoc />
    public void SampleTransition(Span<double> particles, int count, double timeGap, long step, ref ParticleRandom random)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        Transition(timeGap, out var f, out var l, out var c, out _);
        Span<double> x = stackalloc double[n];
        Span<double> z = stackalloc double[n];
        for (var i = 0; i < count; i++)
        {
            for (var j = 0; j < n; j++)
            {
                x[j] = particles[(j * count) + i];
                z[j] = random.NextGaussian();
            }

            for (var r = 0; r < n; r++)
            {
                var s = c[r];
                for (var k = 0; k < n; k++)
                {
                    s += f[(r * n) + k] * x[k];
                }

                for (var k = 0; k <= r; k++)
                {
                    s += l[(r * n) + k] * z[k];
                }

                particles[(r * count) + i] = s;
            }
        }

        arena.Release(mark);
    }

    /// <inheritdoc />
    /// <remarks>True when the square root of Q(Δt) that <see cref="SampleTransition"/> draws with has no zero column
    /// (no pivot below 1e-13 of Q's largest variance, see <see cref="Factor"/>), so every component is noisy.</remarks>
    public bool HasTransitionDensity(double timeGap, long step)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var lower = arena.TakeUninitialized(n * n);
        var positive = NoiseCholesky(timeGap, out _, out _, lower);
        arena.Release(mark);
        return positive;
    }

    /// <inheritdoc />
    /// <remarks>log N(h_t; F h_{t−1} + c, Q) with F, c and Q of the gap, as <see cref="SampleTransition"/> draws it.</remarks>
    public void TransitionLogDensity(ReadOnlySpan<double> previous, int previousCount, ReadOnlySpan<double> next, int nextCount, double timeGap, long step, Span<double> logDensity)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var count = previousCount;
        var lower = arena.TakeUninitialized(n * n);
        if (!NoiseCholesky(timeGap, out var f, out var c, lower))
        {
            throw new InvalidOperationException("The transition noise covariance is singular for this gap: the transition has no density (check HasTransitionDensity first).");
        }

        var constant = -0.5 * ((n * Log2Pi) + Dense.LogDeterminantFromCholesky(lower, n));
        var mean = arena.TakeUninitialized(n * count);
        Propagate(f, c, previous, mean, count);
        var residual = arena.TakeUninitialized(n * count);
        for (var j = 0; j < nextCount; j++)
        {
            for (var d = 0; d < n; d++)
            {
                System.Numerics.Tensors.TensorPrimitives.Subtract(next[(d * nextCount) + j], mean.Slice(d * count, count), residual.Slice(d * count, count));
            }

            var row = logDensity.Slice(j * count, count);
            WhitenedNormSquared(lower, n, residual, count, row);
            System.Numerics.Tensors.TensorPrimitives.Multiply(row, -0.5, row);
            System.Numerics.Tensors.TensorPrimitives.Add(row, constant, row);
        }

        arena.Release(mark);
    }

    /// <summary>F and c of the gap, and the sampler's lower square root of Q in <paramref name="lower"/>; false when
    /// it has a zero pivot (Q singular: the transition has no density).</summary>
    private bool NoiseCholesky(double timeGap, out ReadOnlySpan<double> transition, out ReadOnlySpan<double> offset, Span<double> lower)
    {
        Transition(timeGap, out transition, out var factor, out offset, out _);
        factor[..(n * n)].CopyTo(lower);
        for (var d = 0; d < n; d++)
        {
            if (!(lower[(d * n) + d] > 0.0))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    /// <remarks>Exact: p(y_o | h_{t−1}) = N(y_o; H_o (F h_{t−1} + c) + d_o, H_o Q H_o' + R_oo).</remarks>
    public void LookAheadLogLikelihood(ReadOnlySpan<double> previous, int count, ReadOnlySpan<double> observation, double timeGap, long step, Span<double> logLikelihood)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        Transition(timeGap, out var f, out _, out var c, out var q);
        var predicted = arena.Take(n * count);
        Propagate(f, c, previous, predicted, count);
        Span<int> observed = stackalloc int[m];
        var k = Observed(observation, observed);
        observed = observed[..k];
        var h = Linear.Observation;
        var r = Linear.ObservationNoise;
        var ho = arena.Take(k * n);
        for (var a = 0; a < k; a++)
        {
            h.Slice(observed[a] * n, n).CopyTo(ho.Slice(a * n, n));
        }

        var hq = arena.Take(k * n);
        var s = arena.Take(k * k);
        Dense.Sandwich(ho, k, n, q, hq, s);
        for (var a = 0; a < k; a++)
        {
            for (var b = 0; b < k; b++)
            {
                s[(a * k) + b] += r[(observed[a] * m) + observed[b]];
            }
        }

        Dense.Cholesky(s, k);
        var constant = -0.5 * ((k * Log2Pi) + Dense.LogDeterminantFromCholesky(s, k));
        var residual = arena.Take(k * count);
        Residuals(predicted, count, observation, observed, residual);
        WhitenedNormSquared(s, k, residual, count, logLikelihood);
        for (var i = 0; i < count; i++)
        {
            logLikelihood[i] = constant - (0.5 * logLikelihood[i]);
        }

        arena.Release(mark);
    }

    /// <summary>next = F previous + c for every particle.</summary>
    internal void Propagate(ReadOnlySpan<double> f, ReadOnlySpan<double> c, ReadOnlySpan<double> previous, Span<double> next, int count)
    {
        for (var r = 0; r < n; r++)
        {
            var target = next.Slice(r * count, count);
            target.Fill(c[r]);
            for (var k = 0; k < n; k++)
            {
                var frk = f[(r * n) + k];
                if (frk == 0.0)
                {
                    continue;
                }

                var source = previous.Slice(k * count, count);
                for (var i = 0; i < count; i++)
                {
                    target[i] += frk * source[i];
                }
            }
        }
    }

    /// <inheritdoc />
    public void LogLikelihood(ReadOnlySpan<double> particles, int count, ReadOnlySpan<double> observation, Span<double> logLikelihood)
    {
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        Span<int> observed = stackalloc int[m];
        var k = Observed(observation, observed);
        observed = observed[..k];
        var l = arena.Take(k * k);
        var r = Linear.ObservationNoise;
        for (var a = 0; a < k; a++)
        {
            for (var b = 0; b < k; b++)
            {
                l[(a * k) + b] = r[(observed[a] * m) + observed[b]];
            }
        }

        Dense.Cholesky(l, k);
        var constant = -0.5 * ((k * Log2Pi) + Dense.LogDeterminantFromCholesky(l, k));
        var residual = arena.Take(k * count);
        Residuals(particles, count, observation, observed, residual);
        WhitenedNormSquared(l, k, residual, count, logLikelihood);
        for (var i = 0; i < count; i++)
        {
            logLikelihood[i] = constant - (0.5 * logLikelihood[i]);
        }

        arena.Release(mark);
    }

    /// <summary>Indices of the finite components of y.</summary>
    internal int Observed(ReadOnlySpan<double> y, Span<int> observed)
    {
        var k = 0;
        for (var i = 0; i < m; i++)
        {
            if (double.IsFinite(y[i]))
            {
                observed[k++] = i;
            }
        }

        return k;
    }

    /// <summary>residual_a = y_{o_a} − (H x + d)_{o_a} per particle, structure of arrays (k blocks).</summary>
    internal void Residuals(ReadOnlySpan<double> particles, int count, ReadOnlySpan<double> y, ReadOnlySpan<int> observed, Span<double> residual)
    {
        var h = Linear.Observation;
        var d = Linear.ObservationOffset;
        for (var a = 0; a < observed.Length; a++)
        {
            var row = observed[a];
            var target = residual.Slice(a * count, count);
            target.Fill(y[row] - d[row]);
            for (var j = 0; j < n; j++)
            {
                var hj = h[(row * n) + j];
                if (hj == 0.0)
                {
                    continue;
                }

                var source = particles.Slice(j * count, count);
                for (var i = 0; i < count; i++)
                {
                    target[i] -= hj * source[i];
                }
            }
        }
    }

    /// <summary>Writes |L⁻¹ v_i|² per particle for residual blocks v (k blocks of count), destroying them.</summary>
    internal static void WhitenedNormSquared(ReadOnlySpan<double> lower, int k, Span<double> residual, int count, Span<double> result)
    {
        result[..count].Clear();
        for (var a = 0; a < k; a++)
        {
            var za = residual.Slice(a * count, count);
            for (var b = 0; b < a; b++)
            {
                var lab = lower[(a * k) + b];
                if (lab == 0.0)
                {
                    continue;
                }

                var zb = residual.Slice(b * count, count);
                for (var i = 0; i < count; i++)
                {
                    za[i] -= lab * zb[i];
                }
            }

            var inv = 1.0 / lower[(a * k) + a];
            for (var i = 0; i < count; i++)
            {
                var z = za[i] * inv;
                za[i] = z;
                result[i] += z * z;
            }
        }
    }

    /// <inheritdoc />
    public void EmissionMean(ReadOnlySpan<double> particles, int count, Span<double> mean)
    {
        var h = Linear.Observation;
        var d = Linear.ObservationOffset;
        for (var r = 0; r < m; r++)
        {
            var target = mean.Slice(r * count, count);
            target.Fill(d[r]);
            for (var j = 0; j < n; j++)
            {
                var hj = h[(r * n) + j];
                if (hj == 0.0)
                {
                    continue;
                }

                var source = particles.Slice(j * count, count);
                for (var i = 0; i < count; i++)
                {
                    target[i] += hj * source[i];
                }
            }
        }
    }

    /// <inheritdoc />
    public void AddEmissionCovariance(ReadOnlySpan<double> particles, int count, ReadOnlySpan<double> weights, Span<double> covariance)
    {
        var r = Linear.ObservationNoise;
        for (var i = 0; i < m * m; i++)
        {
            covariance[i] += r[i];
        }
    }
}
