using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian;

/// <summary>
/// Validated, immutable parameters of a linear Gaussian state-space model:
/// h_t = F h_{t-1} + c + B u_t + w_t, w_t ~ N(0, Q), and y_t = H h_t + d + v_t, v_t ~ N(0, R),
/// with prior h_1 ~ N(a_1, P_1 + κ P_∞), κ → ∞ (exact diffuse where P_∞ ≠ 0).
/// </summary>
/// <remarks>
/// F, Q and c come from <see cref="Dynamics"/> (<see cref="MatrixDynamics"/> for explicit matrices, or
/// continuous-time components discretised by the gap). H is <see cref="Observation"/>, R
/// <see cref="ObservationNoise"/>, d <see cref="ObservationOffset"/>, B <see cref="Control"/>, a_1
/// <see cref="InitialMean"/>, P_1 <see cref="InitialCovariance"/> and P_∞ <see cref="InitialDiffuse"/>.
/// The prior applies at the first observation (no prediction before the first update).
/// </remarks>
public sealed class LinearGaussianModel
{
    private readonly double[] observation;
    private readonly double[] observationNoise;
    private readonly double[] observationOffset;
    private readonly double[] control;
    private readonly double[] initialMean;
    private readonly double[] initialCovariance;
    private readonly double[] initialDiffuse;

    /// <summary>Creates and validates a model. Matrices are row-major; validation errors name the spec field.</summary>
    public LinearGaussianModel(
        ILinearDynamics dynamics,
        int observationDimension,
        ReadOnlySpan<double> observation,
        ReadOnlySpan<double> observationNoise,
        ReadOnlySpan<double> initialMean,
        ReadOnlySpan<double> initialCovariance,
        ReadOnlySpan<double> initialDiffuse = default,
        ReadOnlySpan<double> observationOffset = default,
        ReadOnlySpan<double> control = default,
        int controlDimension = 0)
    {
        ArgumentNullException.ThrowIfNull(dynamics);
        var n = dynamics.StateDimension;
        var m = observationDimension;
        if (n < 1)
        {
            throw new ModelValidationException("transition", "the state needs at least one dimension.");
        }

        if (m < 1)
        {
            throw new ModelValidationException("observation", "needs at least one row.");
        }

        Validate.Length("observation", observation, m * n, $"{m}x{n} (observations x states)");
        Validate.Finite("observation", observation);
        Validate.AtMostMaxVariance("observationNoise", observationNoise, m);
        Validate.Covariance("observationNoise", observationNoise, m);
        Validate.Length("initialMean", initialMean, n, $"a vector of {n}");
        Validate.Finite("initialMean", initialMean);
        Validate.AtMostMaxVariance("initialCovariance", initialCovariance, n);
        Validate.Covariance("initialCovariance", initialCovariance, n);
        if (!initialDiffuse.IsEmpty)
        {
            Validate.Covariance("initialDiffuse", initialDiffuse, n);
        }

        if (!observationOffset.IsEmpty)
        {
            Validate.Length("observationOffset", observationOffset, m, $"a vector of {m}");
            Validate.Finite("observationOffset", observationOffset);
        }

        if (controlDimension > 0)
        {
            Validate.Length("control", control, n * controlDimension, $"{n}x{controlDimension} (states x controls)");
            Validate.Finite("control", control);
        }

        if (dynamics is MatrixDynamics md)
        {
            Validate.Finite("transition", md.Transition);
            Validate.AtMostMaxVariance("transitionNoise", md.TransitionNoise, n);
            Validate.Covariance("transitionNoise", md.TransitionNoise, n);
            Validate.Finite("transitionOffset", md.TransitionOffset);
        }

        Dynamics = dynamics;
        StateDimension = n;
        ObservationDimension = m;
        ControlDimension = controlDimension;
        this.observation = observation.ToArray();
        this.observationNoise = observationNoise.ToArray();
        this.observationOffset = observationOffset.IsEmpty ? new double[m] : observationOffset.ToArray();
        this.control = controlDimension > 0 ? control.ToArray() : [];
        this.initialMean = initialMean.ToArray();
        this.initialCovariance = initialCovariance.ToArray();
        this.initialDiffuse = initialDiffuse.IsEmpty ? new double[n * n] : initialDiffuse.ToArray();
        IsDiffuse = this.initialDiffuse.Any(v => v != 0.0);
        HasObservationOffset = this.observationOffset.Any(v => v != 0.0);
    }

    /// <summary>The transition F(Δt), Q(Δt), c(Δt).</summary>
    public ILinearDynamics Dynamics { get; }

    /// <summary>State dimension n.</summary>
    public int StateDimension { get; }

    /// <summary>Observation dimension m.</summary>
    public int ObservationDimension { get; }

    /// <summary>Control dimension (0 when none).</summary>
    public int ControlDimension { get; }

    /// <summary>H (m×n).</summary>
    public ReadOnlySpan<double> Observation => observation;

    /// <summary>R (m×m).</summary>
    public ReadOnlySpan<double> ObservationNoise => observationNoise;

    /// <summary>d (m).</summary>
    public ReadOnlySpan<double> ObservationOffset => observationOffset;

    /// <summary>B (n×u).</summary>
    public ReadOnlySpan<double> Control => control;

    /// <summary>a_1.</summary>
    public ReadOnlySpan<double> InitialMean => initialMean;

    /// <summary>P_1, the proper part of the prior covariance.</summary>
    public ReadOnlySpan<double> InitialCovariance => initialCovariance;

    /// <summary>P_∞, the diffuse part of the prior covariance (zero for a proper prior).</summary>
    public ReadOnlySpan<double> InitialDiffuse => initialDiffuse;

    /// <summary>True when part of the prior is diffuse (exact diffuse initialisation).</summary>
    public bool IsDiffuse { get; }

    /// <summary>True when d ≠ 0.</summary>
    public bool HasObservationOffset { get; }
}
