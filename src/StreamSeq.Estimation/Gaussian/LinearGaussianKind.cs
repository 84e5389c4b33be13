using System.Globalization;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian.Adaptive;
using StreamSeq.Estimation.Gaussian.ContinuousTime;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Numerics;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Gaussian;

/// <summary>
/// The <c>linear-gaussian</c> spec kind: either explicit discrete-time matrices, or continuous-time
/// <c>components</c> (presets, summed block-diagonally) discretised by the actual gap between observations.
/// </summary>
/// <remarks>
/// <para><b>Expectation-maximisation</b> (<see cref="FitEm"/>, <c>streamseq fit --method em</c>; Shumway &amp;
/// Stoffer 1982). Model: h_t = F h_{t-1} + g_t + w_t, w_t ~ N(0, Q), y_t = H h_t + d + v_t, v_t ~ N(0, R),
/// h_1 ~ N(a_1, P_1), with F = <c>transition</c>, Q = <c>transitionNoise</c>, H = <c>observation</c>,
/// R = <c>observationNoise</c>, a_1 = <c>initialMean</c>, P_1 = <c>initialCovariance</c>, d = <c>observationOffset</c>
/// and g_t = c + B u_t (<c>transitionOffset</c>, <c>control</c>; both kept fixed).</para>
/// <para>E-step: the Kalman filter and the Rauch–Tung–Striebel smoother give x_t = E[h_t | y], P_t = Var[h_t | y] and
/// the lag-one cross-covariance C_t = Cov(h_t, h_{t-1} | y) = P_t G_{t-1}', G the smoother gain. M-step, summing over
/// every sequence (N transitions t ≥ 2):
/// F = A10 A00⁻¹ with A10 = Σ C_t + (x_t − g_t) x_{t-1}', A00 = Σ P_{t-1} + x_{t-1} x_{t-1}';
/// Q = (1/N) Σ E[e_t e_t'] with e_t = h_t − F h_{t-1} − g_t, i.e.
/// r r' + P_t − F C_t' − C_t F' + F P_{t-1} F' for r = x_t − F x_{t-1} − g_t (using the new F);
/// a_1 = mean of x_1 over sequences, P_1 = mean of P_1 + (x_1 − a_1)(x_1 − a_1)'.</para>
/// <para>Missing data. A wholly missing step contributes no observation term (the complete data are the states and the
/// vectors with at least one observed component). In a partially observed y_t with observed rows o and missing rows u,
/// the missing rows are part of the complete data and enter through their conditional law given h_t and y_o
/// (the selection-matrix form): with ỹ = y − d, ỹ_u = (H_u − K H_o) h_t + K ỹ_o + η, K = R_uo R_oo⁻¹,
/// η ~ N(0, R_uu − K R_ou). Writing ỹ = L h_t + e + η (L_o = 0, e_o = ỹ_o) and ŷ = L x_t + e:
/// H = (Σ ŷ x_t' + L P_t)(Σ P_t + x_t x_t')⁻¹ and R = (1/M) Σ (ŷ − H x_t)(ŷ − H x_t)' + (L − H) P_t (L − H)' + Var[η]
/// over the M steps with any observation. Dropping the missing rows instead biases R whenever R is not diagonal, and
/// filling them with their predictions alone loses their variance.</para>
/// <para>Structure. Covariances keep the zero pattern of their starting value: indices linked through non-zero entries
/// form a block estimated as a full covariance, entries between blocks stay zero and a zero variance stays zero (the
/// exact M-step for a block-diagonal constraint); so a diagonal start is fitted as a diagonal matrix. F and H are
/// estimated unconstrained. Updates are symmetrised and a rounding-level negative eigenvalue is clipped.</para>
/// <para>Continuous-time presets. F, H and Q depend on the gap, so <c>transition</c>, <c>observation</c> and
/// <c>transitionNoise</c> are refused with a message naming the field. A component whose transition noise is a single
/// rate v times a gap-dependent shape, Q_b(Δt) = v Q̄_b(Δt) (<c>levelNoise</c> of local-level, <c>accelerationNoise</c>,
/// <c>jerkNoise</c>, <c>seasonalNoise</c>, and <c>volatility</c>² of Ornstein–Uhlenbeck), has the exact update
/// v = Σ_t tr(Q̄_b(Δt)⁻¹ E[e_t e_t']_bb) / (b · N), plus the prior's share when the spec uses the component's default
/// stationary prior (which scales with v too); fit it as <c>components[i].levelNoise</c> or <c>preset.volatility</c>.
/// The local linear trend mixes two rates in one Q, has no closed-form update and is refused (use maximum likelihood).
/// <c>observationNoise</c> of a preset model is an ordinary matrix and is fitted as above.</para>
/// <para>Initial state. With exact diffuse initialisation (or the components' default prior) a_1 and P_1 are not
/// estimated. While the diffuse period lasts the smoother's records carry the diffuse part scaled by a large finite κ;
/// a model whose diffuse period never ends (a state combination the data never determine) is refused. Estimating both
/// a_1 and P_1 from one sequence drives P_1 towards zero (the usual degeneracy); fit them from several sequences or
/// keep P_1 fixed.</para>
/// <para>Iteration and convergence. Plain EM converges linearly, slowly when the states are poorly determined. Each
/// iteration applies one or more M-steps with the squared extrapolation of Varadhan &amp; Roland (SQUAREM), safeguarded:
/// an extrapolated point is used only when it is a valid model whose likelihood is at least that of two plain EM
/// steps, so the accepted log-likelihoods never decrease. The fit stops when the log-likelihood gains less than
/// <see cref="FitOptions.Tolerance"/> in an iteration or after <see cref="FitOptions.MaxIterations"/> M-steps;
/// <see cref="FitOptions.Progress"/> receives the M-step count and the log-likelihood of each accepted point. The
/// reported log-likelihood is the filter's (exact diffuse where configured) at the returned parameters.</para>
/// </remarks>
public sealed class LinearGaussianKind : IModelKind, IExpectationMaximization
{
    /// <inheritdoc />
    public string Kind => "linear-gaussian";

    /// <inheritdoc />
    public string Description => "Kalman filter: explicit matrices, or continuous-time presets (local level, trend, constant velocity/acceleration, Ornstein-Uhlenbeck, trigonometric seasonal) and their sums.";

    /// <summary>
    /// The most states a <c>linear-gaussian</c> model may have. A Kalman step costs O(n³) and every filtered record
    /// carries two n×n covariances (about 2.5 MB of JSON at 256 states, already above Kafka's default record limit),
    /// so a larger model would make each record take seconds and each output megabytes rather than do useful work.
    /// </summary>
    internal const int MaxStateDimension = 256;

    /// <summary>A continuous-time component (an item of <c>components</c>, or <c>preset</c>).</summary>
    public static SpecShape ComponentShape { get; } = SpecShape.Of().WithVariants(
        "type",
        null,
        ("local-level", SpecShape.Of("levelNoise", "dimensions")),
        ("local-linear-trend", SpecShape.Of("levelNoise", "slopeNoise")),
        ("constant-velocity", SpecShape.Of("accelerationNoise", "dimensions")),
        ("constant-acceleration", SpecShape.Of("jerkNoise", "dimensions")),
        ("ornstein-uhlenbeck", SpecShape.Of("meanReversion", "mean", "volatility")),
        ("trigonometric-seasonal", SpecShape.Of("period", "harmonics", "seasonalNoise")));

    /// <summary>The fields of a linear Gaussian model, also read where other kinds embed one (IMM modes, the
    /// <c>linear</c> models of the particle and nonlinear kinds).</summary>
    public static SpecShape ModelShape { get; } = SpecShape.Of(
            "transition", "transitionNoise", "observation", "observationNoise", "transitionOffset", "observationOffset", "control",
            "initialization", "initialMean", "initialCovariance")
        .Nest("components", ComponentShape)
        .Nest("preset", ComponentShape);

    /// <inheritdoc />
    public SpecShape Fields { get; } = ModelShape.With(AdaptationSettings.SpecFields);

    /// <inheritdoc />
    /// <remarks>With <c>adapt</c> every stream learns the named noise parameters online
    /// (<see cref="AdaptiveKalmanFilter"/>, docs/adaptation.md).</remarks>
    public IEstimator Build(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var model = BuildModel(spec);
        var adapt = spec.OptionalStrings("adapt");
        if (adapt is null)
        {
            return spec.Has("adaptation")
                ? throw spec.Error("adaptation", "configures online learning, but the spec has no adapt list naming what to learn.")
                : new KalmanFilter(model);
        }

        var settings = AdaptationSettings.Read(spec, NoiseLearningMethod.RecursiveMaximumLikelihood, NoiseLearningMethod.RecursiveMaximumLikelihood, NoiseLearningMethod.VariationalBayes);
        return new AdaptiveKalmanFilter(LinearNoiseParameters.Create(spec, model, adapt, settings), settings);
    }

    /// <summary>Fits the named fields by expectation-maximisation (see the class remarks for the equations).</summary>
    /// <param name="spec">The starting model (a <c>linear-gaussian</c> spec).</param>
    /// <param name="sequences">Training sequences; NaN components are missing.</param>
    /// <param name="parameters">Any of <c>transition</c>, <c>transitionNoise</c>, <c>observation</c>,
    /// <c>observationNoise</c>, <c>initialMean</c>, <c>initialCovariance</c> and component noise rates such as
    /// <c>components[0].levelNoise</c>.</param>
    /// <param name="options">Iteration limit, tolerance on the log-likelihood gain, progress.</param>
    public FitResult FitEm(ModelSpec spec, IReadOnlyList<ObservationSeries> sequences, IReadOnlyCollection<string> parameters, FitOptions options)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Kind != Kind)
        {
            throw new ModelValidationException("kind", $"is '{spec.Kind}', but this EM fits '{Kind}' models.");
        }

        return LinearGaussianEm.Fit(spec, sequences, parameters, options ?? new FitOptions());
    }

    /// <summary>Reads the model parameters of a <c>linear-gaussian</c> spec.</summary>
    public static LinearGaussianModel BuildModel(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var hasComponents = spec.Has("components") || spec.Has("preset");
        var hasMatrices = spec.Has("transition");
        if (hasComponents == hasMatrices)
        {
            throw spec.Error(hasComponents ? "transition" : "components", hasComponents
                ? "give either explicit matrices (transition, transitionNoise, observation) or components/preset, not both."
                : "is required: give explicit matrices (transition, transitionNoise, observation, observationNoise) or continuous-time components.");
        }

        return hasMatrices ? FromMatrices(spec) : FromComponents(spec);
    }

    private static LinearGaussianModel FromMatrices(SpecReader spec)
    {
        var (f, n, fc) = spec.Matrix("transition");
        if (n != fc)
        {
            throw spec.Error("transition", $"must be square, got {n}x{fc}.");
        }

        if (n > MaxStateDimension)
        {
            throw spec.Error("transition", $"is {n}x{n}, but a model has at most {MaxStateDimension} states.");
        }

        var (q, _, _) = spec.Matrix("transitionNoise", n, n);
        var (h, m, _) = spec.Matrix("observation", null, n);
        var (r, _, _) = spec.Matrix("observationNoise", m, m);
        var c = spec.OptionalVector("transitionOffset", n);
        var d = spec.OptionalVector("observationOffset", m);
        var control = spec.OptionalMatrix("control", n);
        var (mean, cov, diffuse) = ReadInitialization(spec, n, null);
        return new LinearGaussianModel(
            new MatrixDynamics(n, f, q, c),
            m,
            h,
            r,
            mean,
            cov,
            diffuse,
            d,
            control?.Values ?? default,
            control?.Columns ?? 0);
    }

    private static LinearGaussianModel FromComponents(SpecReader spec)
    {
        var readers = spec.Has("preset") ? [spec.Object("preset")] : spec.Objects("components");
        if (readers.Count == 0)
        {
            throw spec.Error("components", "needs at least one component.");
        }

        var components = new List<ContinuousComponent>();
        var states = 0;
        foreach (var c in readers)
        {
            try
            {
                components.Add(ReadComponent(c));
            }
            catch (ModelValidationException e) when (!e.Field.StartsWith(c.Path, StringComparison.Ordinal))
            {
                throw e.WithPrefix(c.Path);
            }

            // Each component is at most MaxStateDimension states, so the sum is checked before it can overflow.
            states += components[^1].StateDimension;
            if (states > MaxStateDimension)
            {
                throw spec.Error(spec.Has("preset") ? "preset" : "components", $"the components have {states} states up to {c.Path}, but a model has at most {MaxStateDimension}.");
            }
        }

        var dynamics = new ContinuousTimeDynamics(components);
        var n = dynamics.StateDimension;
        var m = dynamics.ObservationDimension;
        var h = new double[m * n];
        dynamics.WriteObservation(h);
        var (r, _, _) = spec.Matrix("observationNoise", m, m);
        var defaults = (new double[n], new double[n * n], new double[n * n]);
        dynamics.WriteInitial(defaults.Item1, defaults.Item2, defaults.Item3);
        var (mean, cov, diffuse) = ReadInitialization(spec, n, defaults);
        return new LinearGaussianModel(dynamics, m, h, r, mean, cov, diffuse);
    }

    private static ContinuousComponent ReadComponent(SpecReader c)
    {
        var type = c.String("type");
        return type switch
        {
            "local-level" => new LocalLevel(c.Number("levelNoise"), Sized(c, "dimensions", 1)),
            "local-linear-trend" => new LocalLinearTrend(c.Number("levelNoise"), c.Number("slopeNoise")),
            "constant-velocity" => new ConstantVelocity(c.Number("accelerationNoise"), Sized(c, "dimensions", 2)),
            "constant-acceleration" => new ConstantAcceleration(c.Number("jerkNoise"), Sized(c, "dimensions", 3)),
            "ornstein-uhlenbeck" => new OrnsteinUhlenbeck(c.Number("meanReversion"), c.Number("mean", 0.0), c.Number("volatility")),
            "trigonometric-seasonal" => new TrigonometricSeasonal(c.Number("period"), Sized(c, "harmonics", 2), c.Number("seasonalNoise")),
            _ => throw c.Error("type", $"unknown preset '{type}' (known: local-level, local-linear-trend, constant-velocity, constant-acceleration, ornstein-uhlenbeck, trigonometric-seasonal)."),
        };
    }

    /// <summary>Reads a component's size (default 1), which gives it <paramref name="statesEach"/> states per unit.</summary>
    private static int Sized(SpecReader c, string field, int statesEach)
    {
        var value = c.Integer(field, 1);
        var most = MaxStateDimension / statesEach;
        return value > most
            ? throw c.Error(field, $"must be at most {most} ({statesEach} state{(statesEach == 1 ? string.Empty : "s")} each; a model has at most {MaxStateDimension} states), got {value}.")
            : value;
    }

    /// <summary>
    /// The components' default prior within the bound of a spec variance. It is the stationary variance σ²/(2θ) of an
    /// Ornstein–Uhlenbeck component: a slow reversion with a large volatility overflowed it, and the model's check then
    /// named <c>initialCovariance</c>, a field the spec does not have.
    /// </summary>
    private static void CheckDefaultPrior(SpecReader spec, double[] cov, int n)
    {
        for (var i = 0; i < n; i++)
        {
            var variance = cov[(i * n) + i];
            if (!(variance <= Validate.MaxVariance))
            {
                throw spec.Error(
                    "components",
                    string.Create(CultureInfo.InvariantCulture, $"their default prior (the stationary variance σ²/(2θ) of an ornstein-uhlenbeck component) gives state {i} a variance of {variance:R}, above the most a spec may hold ({Validate.MaxVariance:R}); give initialMean and initialCovariance, or a faster meanReversion or smaller volatility."));
            }
        }
    }

    private static (double[] Mean, double[] Covariance, double[]? Diffuse) ReadInitialization(
        SpecReader spec, int n, (double[] Mean, double[] Cov, double[] Diffuse)? defaults)
    {
        var init = spec.OptionalString("initialization");
        var mean = spec.OptionalVector("initialMean", n);
        var cov = spec.OptionalMatrix("initialCovariance", n, n)?.Values;
        switch (init)
        {
            case "diffuse":
                if (cov is not null)
                {
                    throw spec.Error("initialCovariance", "must be omitted with \"initialization\": \"diffuse\" (every state starts with infinite variance).");
                }

                var inf = new double[n * n];
                for (var i = 0; i < n; i++)
                {
                    inf[(i * n) + i] = 1.0;
                }

                return (mean ?? new double[n], new double[n * n], inf);
            case null or "known":
                if (mean is null || cov is null)
                {
                    if (defaults is { } d && mean is null && cov is null && init is null)
                    {
                        CheckDefaultPrior(spec, d.Cov, n);
                        return (d.Mean, d.Cov, d.Diffuse);
                    }

                    throw spec.Error(mean is null ? "initialMean" : "initialCovariance", "is required (or set \"initialization\": \"diffuse\").");
                }

                return (mean, cov, null);
            default:
                throw spec.Error("initialization", $"must be \"known\" or \"diffuse\", got \"{init}\".");
        }
    }
}
