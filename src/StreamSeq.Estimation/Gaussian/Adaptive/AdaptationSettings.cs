using System.Globalization;
using MathNet.Numerics.Distributions;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Gaussian.Adaptive;

/// <summary>
/// The settings of online noise learning (the spec's <c>adaptation</c> object): the forgetting factor, the outlier
/// gate, the trust region of recursive maximum likelihood and the method for observation noise.
/// </summary>
/// <remarks>
/// The forgetting factor λ = 1 − 1/W discounts past readings geometrically, W being the effective window in readings
/// (<c>window</c>) — give either <c>window</c> or <c>forgetting</c>. A reading component whose two-sided predictive tail
/// probability P(|z| ≥ |v|/√S_ii) is below <see cref="Gate"/> is an outlier: nothing is learned from that reading, and
/// unless the component's previous reading was also an outlier the state does not assimilate it (see
/// docs/adaptation.md).
/// </remarks>
public sealed record AdaptationSettings
{
    /// <summary>The default effective window, in readings.</summary>
    public const double DefaultWindow = 200.0;

    /// <summary>The default gate: a two-sided tail probability of 10⁻⁴ (|z| ≥ 3.89).</summary>
    public const double DefaultGate = 1e-4;

    /// <summary>The default trust region: a log-parameter moves by at most this per reading.</summary>
    public const double DefaultMaxStep = 0.2;

    /// <summary>The fields of the <c>adaptation</c> object.</summary>
    public static SpecShape Shape { get; } = SpecShape.Of("window", "forgetting", "gate", "maxStep", "observationNoise", "iterations", "priorWeight");

    /// <summary>The spec fields a kind that learns its noise accepts: <c>adapt</c> and <c>adaptation</c>.</summary>
    public static SpecShape SpecFields { get; } = SpecShape.Of("adapt").Nest("adaptation", Shape);

    /// <summary>W, the effective window in readings (λ = 1 − 1/W).</summary>
    public double Window { get; init; } = DefaultWindow;

    /// <summary>λ = 1 − 1/W, the factor every learned statistic is discounted by per reading that informs it.</summary>
    public double Forgetting => 1.0 - (1.0 / Window);

    /// <summary>Two-sided predictive tail probability below which a reading component is an outlier (0: no gate).</summary>
    public double Gate { get; init; } = DefaultGate;

    /// <summary>The gate on the squared standardised innovation: c² with P(|z| ≥ c) = <see cref="Gate"/> (∞ without a gate).</summary>
    public double GateSquared => Gate > 0.0 ? Math.Pow(Normal.InvCDF(0.0, 1.0, 1.0 - (0.5 * Gate)), 2) : double.PositiveInfinity;

    /// <summary>Largest change of a log-parameter per reading under recursive maximum likelihood.</summary>
    public double MaxStep { get; init; } = DefaultMaxStep;

    /// <summary>The method for observation noise.</summary>
    public NoiseLearningMethod ObservationNoise { get; init; } = NoiseLearningMethod.RecursiveMaximumLikelihood;

    /// <summary>Variational-Bayes fixed-point iterations per reading.</summary>
    public int Iterations { get; init; } = 1;

    /// <summary>
    /// Weight of the spec's values, in readings: the inverse-gamma prior's shape is half of it (variational Bayes), and
    /// recursive maximum likelihood starts its information at half of it per log-parameter (a prior sd of √(2/w)).
    /// </summary>
    public double PriorWeight { get; init; } = 2.0;

    /// <summary>The method name in specs and records.</summary>
    public static string Name(NoiseLearningMethod method) => method == NoiseLearningMethod.VariationalBayes ? "variational-bayes" : "recursive-ml";

    /// <summary>Reads <c>adaptation</c> (defaults when absent).</summary>
    /// <param name="spec">The kind's reader.</param>
    /// <param name="defaultMethod">The observation-noise method when the spec names none.</param>
    /// <param name="allowed">The methods the kind supports for observation noise.</param>
    public static AdaptationSettings Read(SpecReader spec, NoiseLearningMethod defaultMethod, params NoiseLearningMethod[] allowed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(allowed);
        var a = spec.OptionalObject("adaptation");
        if (a is null)
        {
            return new AdaptationSettings { ObservationNoise = defaultMethod };
        }

        double window;
        if (a.Has("window") && a.Has("forgetting"))
        {
            throw a.Error("forgetting", "give either window or forgetting, not both (window W means forgetting 1 − 1/W).");
        }

        if (a.Has("forgetting"))
        {
            var lambda = a.Number("forgetting");
            if (!(lambda >= 0.5 && lambda < 1.0))
            {
                throw a.Error("forgetting", $"must be at least 0.5 and below 1 (an effective window of 1/(1 − λ) readings), got {lambda.ToString("R", CultureInfo.InvariantCulture)}.");
            }

            window = 1.0 / (1.0 - lambda);
        }
        else
        {
            window = a.Number("window", DefaultWindow);
            if (!(window >= 2.0 && window <= 1e9))
            {
                throw a.Error("window", $"must be between 2 and 1e9 readings, got {window.ToString("R", CultureInfo.InvariantCulture)}.");
            }
        }

        var gate = a.Number("gate", DefaultGate);
        if (!(gate >= 0.0 && gate < 0.5))
        {
            throw a.Error("gate", $"must be a tail probability in [0, 0.5) (0 turns the outlier gate off), got {gate.ToString("R", CultureInfo.InvariantCulture)}.");
        }

        var maxStep = a.Number("maxStep", DefaultMaxStep);
        if (!(maxStep > 0.0 && maxStep <= 10.0))
        {
            throw a.Error("maxStep", $"must be positive and at most 10 (a change of the log-parameter per reading), got {maxStep.ToString("R", CultureInfo.InvariantCulture)}.");
        }

        var methodName = a.OptionalString("observationNoise");
        var method = defaultMethod;
        if (methodName is not null)
        {
            method = methodName switch
            {
                "recursive-ml" => NoiseLearningMethod.RecursiveMaximumLikelihood,
                "variational-bayes" => NoiseLearningMethod.VariationalBayes,
                _ => throw a.Error("observationNoise", $"unknown method '{methodName}' (known: {string.Join(", ", allowed.Select(Name))})."),
            };
            if (!allowed.Contains(method))
            {
                throw a.Error("observationNoise", $"'{methodName}' is not available for this kind (available: {string.Join(", ", allowed.Select(Name))}).");
            }
        }

        var iterations = a.Integer("iterations", 1);
        if (iterations is < 1 or > 20)
        {
            throw a.Error("iterations", $"must be between 1 and 20, got {iterations}.");
        }

        var priorWeight = a.Number("priorWeight", 2.0);
        if (!(priorWeight > 0.0 && priorWeight <= 1e9))
        {
            throw a.Error("priorWeight", $"must be positive and at most 1e9 readings, got {priorWeight.ToString("R", CultureInfo.InvariantCulture)}.");
        }

        return new AdaptationSettings
        {
            Window = window,
            Gate = gate,
            MaxStep = maxStep,
            ObservationNoise = method,
            Iterations = iterations,
            PriorWeight = priorWeight,
        };
    }
}
