using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>
/// Validated, immutable parameters of a nonlinear Gaussian state-space model given as delegates:
/// x_t = f(x_{t-1}, Δt, u_t) + w_t, w_t ~ N(0, Q(Δt)), and y_t = h(x_t) + v_t, v_t ~ N(0, R).
/// </summary>
/// <remarks>
/// <para>Symbols: f is <see cref="Transition"/> (with optional Jacobian F = ∂f/∂x, <see cref="TransitionJacobian"/>),
/// Q(Δt) <see cref="TransitionNoise"/>, h <see cref="Observation"/> (optional Jacobian H = ∂h/∂x,
/// <see cref="ObservationJacobian"/>), R <see cref="ObservationNoise"/>, and the prior N(m_0, P_0) is
/// <see cref="InitialMean"/> and <see cref="InitialCovariance"/>. Matrices are row-major.</para>
/// <para>By default the prior is the distribution of the state at the first observation and no prediction is made
/// before the first update (the StreamSeq convention). With <see cref="PriorAtTimeZero"/> the prior describes a
/// state at time zero that has no observation, and the filters predict once (one model time unit) before the first
/// update, as FilterPy and most textbooks do.</para>
/// <para>The constructor evaluates every delegate once at the prior mean with exactly sized buffers, so a function
/// that reads or writes the wrong number of values, or returns non-finite numbers there, fails at construction with
/// the field named.</para>
/// </remarks>
public sealed class NonlinearGaussianModel
{
    private readonly double[] observationNoise;
    private readonly double[] initialMean;
    private readonly double[] initialCovariance;

    /// <summary>Creates and validates a model. Validation errors name the spec field.</summary>
    /// <param name="stateDimension">n, the length of x.</param>
    /// <param name="observationDimension">m, the length of y.</param>
    /// <param name="transition">f.</param>
    /// <param name="transitionNoise">Q(Δt), n×n.</param>
    /// <param name="observation">h.</param>
    /// <param name="observationNoise">R, m×m.</param>
    /// <param name="initialMean">m_0, n values.</param>
    /// <param name="initialCovariance">P_0, n×n.</param>
    /// <param name="transitionJacobian">∂f/∂x; null means finite differences where a Jacobian is needed.</param>
    /// <param name="observationJacobian">∂h/∂x; null means finite differences where a Jacobian is needed.</param>
    /// <param name="controlDimension">Length of the control input u (0 when the model takes none).</param>
    /// <param name="usesTimeGap">True when f or Q depend on Δt (continuous-time models).</param>
    /// <param name="priorAtTimeZero">True when the prior is of a time-zero state without observation (see remarks).</param>
    public NonlinearGaussianModel(
        int stateDimension,
        int observationDimension,
        TransitionFunction transition,
        TransitionNoiseFunction transitionNoise,
        ObservationFunction observation,
        ReadOnlySpan<double> observationNoise,
        ReadOnlySpan<double> initialMean,
        ReadOnlySpan<double> initialCovariance,
        TransitionJacobian? transitionJacobian = null,
        ObservationJacobian? observationJacobian = null,
        int controlDimension = 0,
        bool usesTimeGap = false,
        bool priorAtTimeZero = false)
    {
        var n = stateDimension;
        var m = observationDimension;
        if (n < 1)
        {
            throw new ModelValidationException("initialMean", $"the state needs at least one dimension, got {n}.");
        }

        if (m < 1)
        {
            throw new ModelValidationException("observationNoise", $"the observation needs at least one dimension, got {m}.");
        }

        if (controlDimension < 0)
        {
            throw new ModelValidationException("control", $"the control dimension cannot be negative, got {controlDimension}.");
        }

        Transition = transition ?? throw new ModelValidationException("transition", "is required (the function f).");
        TransitionNoise = transitionNoise ?? throw new ModelValidationException("transitionNoise", "is required (the covariance Q).");
        Observation = observation ?? throw new ModelValidationException("observation", "is required (the function h).");
        Validate.Covariance("observationNoise", observationNoise, m);
        Validate.Length("initialMean", initialMean, n, $"a vector of {n}");
        Validate.Finite("initialMean", initialMean);
        Validate.Covariance("initialCovariance", initialCovariance, n);

        StateDimension = n;
        ObservationDimension = m;
        ControlDimension = controlDimension;
        TransitionJacobian = transitionJacobian;
        ObservationJacobian = observationJacobian;
        UsesTimeGap = usesTimeGap;
        PriorAtTimeZero = priorAtTimeZero;
        this.observationNoise = observationNoise.ToArray();
        this.initialMean = initialMean.ToArray();
        this.initialCovariance = initialCovariance.ToArray();
        CheckFunctions();
    }

    /// <summary>State dimension n.</summary>
    public int StateDimension { get; }

    /// <summary>Observation dimension m.</summary>
    public int ObservationDimension { get; }

    /// <summary>Control dimension (0 when none).</summary>
    public int ControlDimension { get; }

    /// <summary>f: the mean of the transition.</summary>
    public TransitionFunction Transition { get; }

    /// <summary>F = ∂f/∂x, or null (finite differences).</summary>
    public TransitionJacobian? TransitionJacobian { get; }

    /// <summary>Q(Δt).</summary>
    public TransitionNoiseFunction TransitionNoise { get; }

    /// <summary>h: the mean of the observation.</summary>
    public ObservationFunction Observation { get; }

    /// <summary>H = ∂h/∂x, or null (finite differences).</summary>
    public ObservationJacobian? ObservationJacobian { get; }

    /// <summary>R (m×m).</summary>
    public ReadOnlySpan<double> ObservationNoise => observationNoise;

    /// <summary>m_0.</summary>
    public ReadOnlySpan<double> InitialMean => initialMean;

    /// <summary>P_0 (n×n).</summary>
    public ReadOnlySpan<double> InitialCovariance => initialCovariance;

    /// <summary>True when f or Q depend on the time gap.</summary>
    public bool UsesTimeGap { get; }

    /// <summary>True when the prior is of a time-zero state and the filters predict before the first update.</summary>
    public bool PriorAtTimeZero { get; }

    /// <summary>The prior at the first observation as a function of that observation's control, or null when the prior
    /// is <see cref="InitialMean"/> and <see cref="InitialCovariance"/> whatever the control (the default). The filters
    /// call it at the first step after an initialisation when the prior is not at time zero; the model's own prior is
    /// still what a forecast made before any observation and a re-initialised step report.</summary>
    internal ControlledPriorFunction? ControlledPrior { get; init; }

    /// <summary>A transition noise that does not depend on the gap: Q(Δt) = <paramref name="covariance"/>.</summary>
    public static TransitionNoiseFunction ConstantTransitionNoise(ReadOnlySpan<double> covariance)
    {
        var q = covariance.ToArray();
        return (_, target) => q.CopyTo(target);
    }

    /// <summary>The same model with another prior (and prior convention).</summary>
    public NonlinearGaussianModel WithPrior(ReadOnlySpan<double> initialMean, ReadOnlySpan<double> initialCovariance, bool priorAtTimeZero) =>
        new(
            StateDimension,
            ObservationDimension,
            Transition,
            TransitionNoise,
            Observation,
            observationNoise,
            initialMean,
            initialCovariance,
            TransitionJacobian,
            ObservationJacobian,
            ControlDimension,
            UsesTimeGap,
            priorAtTimeZero);

    private void CheckFunctions()
    {
        var n = StateDimension;
        var m = ObservationDimension;
        var x = initialMean;
        var control = new double[ControlDimension];
        var next = new double[n];
        try
        {
            Transition(x, new TransitionContext(1.0, 1, control), next);
        }
        catch (Exception e) when (IsShapeError(e))
        {
            throw ShapeError("transition", $"a state of {n}", e);
        }

        RequireFinite("transition", next);
        var q = new double[n * n];
        try
        {
            TransitionNoise(1.0, q);
        }
        catch (Exception e) when (IsShapeError(e))
        {
            throw ShapeError("transitionNoise", $"an {n}x{n} covariance", e);
        }

        Validate.Covariance("transitionNoise", q, n);
        var y = new double[m];
        try
        {
            Observation(x, y);
        }
        catch (Exception e) when (IsShapeError(e))
        {
            throw ShapeError("observation", $"an observation of {m}", e);
        }

        RequireFinite("observation", y);
        if (TransitionJacobian is { } fj)
        {
            var jac = new double[n * n];
            try
            {
                fj(x, new TransitionContext(1.0, 1, control), jac);
            }
            catch (Exception e) when (IsShapeError(e))
            {
                throw ShapeError("transitionJacobian", $"an {n}x{n} Jacobian", e);
            }

            RequireFinite("transitionJacobian", jac);
        }

        if (ObservationJacobian is { } hj)
        {
            var jac = new double[m * n];
            try
            {
                hj(x, jac);
            }
            catch (Exception e) when (IsShapeError(e))
            {
                throw ShapeError("observationJacobian", $"an {m}x{n} Jacobian", e);
            }

            RequireFinite("observationJacobian", jac);
        }
    }

    private static bool IsShapeError(Exception e) => e is IndexOutOfRangeException or ArgumentOutOfRangeException;

    private static ModelValidationException ShapeError(string field, string shape, Exception e) =>
        new(field, $"does not fit the model's dimensions: computing {shape} at initialMean failed ({e.Message}).");

    private static void RequireFinite(string field, ReadOnlySpan<double> output)
    {
        for (var i = 0; i < output.Length; i++)
        {
            if (!double.IsFinite(output[i]))
            {
                throw new ModelValidationException(field, $"gives a non-finite value ({output[i]}) at element {i} when evaluated at initialMean.");
            }
        }
    }
}
