using System.Runtime.CompilerServices;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian.Nonlinear;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// A trained recurrent cell and its Gaussian head as a stochastic state-space model over the network's hidden
/// state, for the unscented Kalman filter: filtering, smoothing and calibrated uncertainty for a neural model.
/// </summary>
/// <remarks>
/// <para>The net is read as a generative model of a latent, noise-free signal z (what it was trained on, or the
/// signal before a sensor's noise): h_t = cell(h_{t-1}, [z_{t-1}, u_t]) and z_t ~ N(ŷ(h_t), Σ(h_t)) from the head.
/// A sensor observes y_t = z_t + v_t, v_t ~ N(0, R) (<c>observationNoise</c>), and the hidden state gets process
/// noise w_t ~ N(0, diag(q)) (<c>processNoise</c>) for what the deterministic cell cannot explain.</para>
/// <para>The filter state is s = [h (S values: h and c of every layer), z (m), e (m)], n = S + 2m. The head's noise is
/// state-dependent, so it enters through the auxiliary e ~ N(0, I) (noise augmentation): the transition is
/// f(s) = [cell(h, [z, u]), ŷ(h') + L(h') e, 0] with Σ(h') = L(h') L(h')ᵀ, and the transition noise is
/// Q = diag(q, 0, I), which makes e a fresh standard normal at every step that the sigma points carry through the
/// head. So the predicted covariance of z is Cov[ŷ(h)] + E[Σ(h)] under the unscented approximation, with no
/// constant-variance shortcut. The observation is linear, h(s) = z, with R constant.</para>
/// <para>Prior (at the first observation, as every StreamSeq model): h_1 = cell(h_0, [y_0, u_1]) (h_0 = <c>initialHidden</c>/<c>initialCell</c>, default 0; u_1 the first reading's control, missing before any reading) with variance
/// <c>initialVariance</c>, z_1 ~ N(ŷ(h_1), Σ(h_1)), e ~ N(0, I), independent. Missing observations need no special
/// input: z is a latent state, so a missing y_t only widens it. With q → 0 and R → 0 the filter reproduces the
/// deterministic <see cref="RecurrentEstimator"/> (tested).</para>
/// </remarks>
public static class RecurrentStateSpace
{
    private const int StackLimit = 2048;

    /// <summary>Builds the model. Errors name the spec fields <c>processNoise</c>, <c>initialVariance</c> and
    /// <c>observationNoise</c>.</summary>
    /// <param name="backend">The trained network and head (thread-safe).</param>
    /// <param name="layout">Input and head interpretation (a Gaussian or point head).</param>
    /// <param name="processNoise">q: one variance per network state value (S), or a single value for all.</param>
    /// <param name="observationNoise">R: the sensor's noise covariance, m×m row-major.</param>
    /// <param name="initialVariance">Variance of h_1 (S values or one for all).</param>
    public static NonlinearGaussianModel Build(IRecurrentBackend backend, RecurrentLayout layout, ReadOnlySpan<double> processNoise, ReadOnlySpan<double> observationNoise, ReadOnlySpan<double> initialVariance)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(layout);
        var s = backend.StateSize;
        var m = layout.ObservationDimension;
        var n = s + (2 * m);
        var q = Expand("processNoise", processNoise, s, allowZero: true);
        var v0 = Expand("initialVariance", initialVariance, s, allowZero: true);
        if (observationNoise.Length != m * m)
        {
            throw new ModelValidationException("observationNoise", $"must be {m}x{m}, got {observationNoise.Length} values.");
        }

        var mean = new double[n];
        var covariance = new double[n * n];
        var factor = new double[m * m];
        var sigma = new double[m * m];
        if (!FirstStep(backend, layout, default, mean.AsSpan(0, s), mean.AsSpan(s, m), factor))
        {
            throw new ModelValidationException("weights", "the network's first prediction (from the initial state) is not finite.");
        }

        layout.Covariance(factor, sigma);
        for (var i = 0; i < s; i++)
        {
            covariance[(i * n) + i] = v0[i];
        }

        for (var a = 0; a < m; a++)
        {
            for (var b = 0; b < m; b++)
            {
                covariance[((s + a) * n) + s + b] = sigma[(a * m) + b];
            }

            covariance[((s + m + a) * n) + s + m + a] = 1.0;
        }

        var noise = new double[n * n];
        for (var i = 0; i < s; i++)
        {
            noise[(i * n) + i] = q[i];
        }

        for (var a = 0; a < m; a++)
        {
            noise[((s + m + a) * n) + s + m + a] = 1.0;
        }

        return new NonlinearGaussianModel(
            n,
            m,
            (x, context, next) => Transition(backend, layout, x, context.Control, next),
            NonlinearGaussianModel.ConstantTransitionNoise(noise),
            (x, y) => x.Slice(s, m).CopyTo(y),
            observationNoise,
            mean,
            covariance,
            controlDimension: layout.ControlDimension)
        {
            // h_1 = cell(h_0, [y_0, u_1]) reads the first reading's control, as the deterministic net does; the prior
            // above (controls missing) stays the one reported before any reading.
            ControlledPrior = layout.ControlDimension > 0 ? (control, priorMean, priorCovariance) => ControlledPrior(backend, layout, control, priorMean, priorCovariance) : null,
        };
    }

    /// <summary>The prior given the first reading's control: h_1 = cell(h_0, [y_0, u_1]) and z_1 ~ N(ŷ(h_1), Σ(h_1)); the
    /// h and e blocks of the covariance (initialVariance and I) are those of the model's prior already held.</summary>
    [SkipLocalsInit]
    private static bool ControlledPrior(IRecurrentBackend backend, RecurrentLayout layout, ReadOnlySpan<double> control, Span<double> mean, Span<double> covariance)
    {
        var s = backend.StateSize;
        var m = layout.ObservationDimension;
        var n = s + (2 * m);
        Span<double> factor = stackalloc double[m * m];
        Span<double> sigma = stackalloc double[m * m];
        if (!FirstStep(backend, layout, control, mean[..s], mean.Slice(s, m), factor))
        {
            return false;
        }

        layout.Covariance(factor, sigma);
        mean.Slice(s + m, m).Clear();
        for (var a = 0; a < m; a++)
        {
            for (var b = 0; b < m; b++)
            {
                covariance[((s + a) * n) + s + b] = sigma[(a * m) + b];
            }
        }

        return true;
    }

    /// <summary>h_1 = cell(h_0, [y_0, u_1]) (<paramref name="control"/> u_1, empty: missing) and the head's moments at
    /// h_1; false when not finite.</summary>
    [SkipLocalsInit]
    internal static bool FirstStep(IRecurrentBackend backend, RecurrentLayout layout, ReadOnlySpan<double> control, Span<double> state, Span<double> mean, Span<double> factor)
    {
        var storageLength = backend.StorageLength;
        var storage = storageLength <= StackLimit ? stackalloc double[storageLength] : new double[storageLength];
        Span<double> input = stackalloc double[layout.InputSize];
        Span<double> raw = stackalloc double[backend.OutputSize];
        layout.WriteInitialState(backend, storage);
        layout.BuildInput(layout.InitialObservation, control, input);
        backend.Step(input, storage, raw);
        backend.ReadState(storage, state);
        foreach (var v in state)
        {
            if (!double.IsFinite(v))
            {
                return false;
            }
        }

        return layout.Moments(raw, mean, factor);
    }

    /// <summary>f(s): the cell on [z, u], then z' = ŷ(h') + L(h') e and e' = 0. Non-finite results propagate as NaN,
    /// which the filter's guard rails turn into a re-initialisation.</summary>
    [SkipLocalsInit]
    internal static void Transition(IRecurrentBackend backend, RecurrentLayout layout, ReadOnlySpan<double> x, ReadOnlySpan<double> control, Span<double> next)
    {
        var s = backend.StateSize;
        var m = layout.ObservationDimension;
        var storageLength = backend.StorageLength;
        var storage = storageLength <= StackLimit ? stackalloc double[storageLength] : new double[storageLength];
        Span<double> input = stackalloc double[layout.InputSize];
        Span<double> raw = stackalloc double[backend.OutputSize];
        Span<double> mean = stackalloc double[m];
        Span<double> factor = stackalloc double[m * m];
        backend.WriteState(x[..s], storage);
        layout.BuildInput(x.Slice(s, m), control, input);
        backend.Step(input, storage, raw);
        backend.ReadState(storage, next[..s]);
        var ok = layout.Moments(raw, mean, factor);
        var e = x.Slice(s + m, m);
        for (var a = 0; a < m; a++)
        {
            var v = mean[a];
            for (var b = 0; b <= a; b++)
            {
                v += factor[(a * m) + b] * e[b];
            }

            next[s + a] = ok ? v : double.NaN;
            next[s + m + a] = 0.0;
        }
    }

    private static double[] Expand(string field, ReadOnlySpan<double> values, int length, bool allowZero)
    {
        if (values.Length != 1 && values.Length != length)
        {
            throw new ModelValidationException(field, $"must be one number or {length} (one per network state value), got {values.Length}.");
        }

        var result = new double[length];
        for (var i = 0; i < length; i++)
        {
            var v = values.Length == 1 ? values[0] : values[i];
            if (!double.IsFinite(v) || v < 0.0 || (!allowZero && v == 0.0))
            {
                throw new ModelValidationException(values.Length == 1 ? field : $"{field}[{i}]", $"must be a finite, non-negative variance, got {v}.");
            }

            result[i] = v;
        }

        return result;
    }
}
