using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace StreamSeq.Testing;

/// <summary>
/// The spec fields whose values the readers bound as variances (at most 1e300; an Ornstein–Uhlenbeck volatility at most
/// 1e150, its square being the variance), each with a spec that reaches it, and fields of the same specs that are not
/// bounded. Shared by the readers' tests (StreamSeq.Estimation.Tests, SpecVarianceBoundTests) and the model-spec
/// schema's (StreamSeq.Cli.Tests, SpecSchemaVarianceBoundTests), so that a field bounded in one is bounded in the other.
/// Linked into the test projects that use it (tests/Shared).
/// </summary>
internal static partial class SpecVarianceBounds
{
    /// <summary>The next double above the bound.</summary>
    public const string JustAbove = "1.0000000000000002e300";

    public const string Bound = "1e300";

    /// <summary>The next double above the bound of a volatility (a standard deviation).</summary>
    public const string DeviationJustAbove = "1.0000000000000002e150";

    public const string DeviationBound = "1e150";

    public const string LocalLevel = """{"name":"t","kind":"linear-gaussian","components":[{"type":"local-level","levelNoise":1}],"observationNoise":[[1]]}""";

    public const string ConstantVelocity = """{"name":"t","kind":"linear-gaussian","components":[{"type":"constant-velocity","accelerationNoise":1}],"observationNoise":[[1]]}""";

    public const string ConstantAcceleration = """{"name":"t","kind":"linear-gaussian","components":[{"type":"constant-acceleration","jerkNoise":1}],"observationNoise":[[1]]}""";

    public const string OrnsteinUhlenbeck = """{"name":"t","kind":"linear-gaussian","preset":{"type":"ornstein-uhlenbeck","meanReversion":1,"volatility":1},"observationNoise":[[1]],"initialMean":[0],"initialCovariance":[[1]]}""";

    public const string PendulumParticles = """{"name":"t","kind":"particle","particles":10,"model":{"type":"pendulum","accelerationNoise":0.1,"observationNoise":0.01,"initialMean":[1,0],"initialCovariance":[[0.01,0],[0,0.04]]}}""";

    public const string StochasticVolatility = """{"name":"t","kind":"particle","particles":10,"model":{"type":"stochastic-volatility","persistence":0.9,"volatility":0.3,"initialVariance":1}}""";

    public const string MultivariateHmm = """{"name":"t","kind":"hmm","initialProbabilities":[0.5,0.5],"transition":[[0.9,0.1],[0.1,0.9]],"emission":{"type":"multivariate-gaussian","means":[[0,0],[1,1]],"covariances":[[[1,0],[0,1]],[[1,0],[0,1]]]}}""";

    public const string NormalGamma = """{"name":"t","kind":"bocpd","hazard":{"type":"constant","rate":0.01},"observation":{"type":"normal-gamma","priorMean":0,"kappa":1,"alpha":2,"beta":[1,1]}}""";

    /// <summary>A variance or covariance entry of each kind: (spec, where to write the value, the field the error names).
    /// A spec is an example's name or a spec's JSON.</summary>
    public static IReadOnlyList<(string Spec, string Path, string Field)> Variances { get; } =
    [
        // linear-gaussian, components and matrices.
        ("sensors", "observationNoise[0][0]", "observationNoise[0][0]"),
        ("sensors", "components[0].levelNoise", "components[0].levelNoise"),
        ("sensors", "components[0].slopeNoise", "components[0].slopeNoise"),
        ("sensors", "components[1].seasonalNoise", "components[1].seasonalNoise"),
        (LocalLevel, "components[0].levelNoise", "components[0].levelNoise"),
        (ConstantVelocity, "components[0].accelerationNoise", "components[0].accelerationNoise"),
        (ConstantAcceleration, "components[0].jerkNoise", "components[0].jerkNoise"),
        ("nile", "transitionNoise[0][0]", "transitionNoise[0][0]"),
        ("nile", "observationNoise[0][0]", "observationNoise[0][0]"),
        ("nile", "initialCovariance[0][0]", "initialCovariance[0][0]"),
        (OrnsteinUhlenbeck, "initialCovariance[0][0]", "initialCovariance[0][0]"),

        // imm: each mode is a linear-gaussian model.
        ("imm-manoeuvre", "modes[1].transitionNoise[2][2]", "modes[1].transitionNoise[2][2]"),
        ("imm-manoeuvre", "modes[0].observationNoise[1][1]", "modes[0].observationNoise[1][1]"),
        ("imm-manoeuvre", "modes[0].initialCovariance[0][0]", "modes[0].initialCovariance[0][0]"),

        // extended-kalman and unscented-kalman.
        ("growth-ekf", "model.transitionNoise", "model.transitionNoise"),
        ("growth-ekf", "model.observationNoise", "model.observationNoise"),
        ("growth-ekf", "model.initialCovariance[0][0]", "model.initialCovariance[0][0]"),
        ("pendulum-ukf", "model.qc", "model.qc"),
        ("pendulum-ukf", "model.observationNoise", "model.observationNoise"),
        ("pendulum-ukf", "model.initialCovariance[1][1]", "model.initialCovariance[1][1]"),

        // particle.
        ("particle-growth", "model.initialVariance", "model.initialVariance"),
        ("particle-growth", "model.transitionNoise", "model.transitionNoise"),
        ("particle-growth", "model.observationNoise", "model.observationNoise"),
        (PendulumParticles, "model.accelerationNoise", "model.accelerationNoise"),
        (PendulumParticles, "model.observationNoise", "model.observationNoise"),
        (PendulumParticles, "model.initialCovariance[0][0]", "model.initialCovariance[0][0]"),
        (StochasticVolatility, "model.initialVariance", "model.initialVariance"),

        // hmm.
        ("hmm-regimes", "emission.variances[1]", "emission.variances[1]"),
        (MultivariateHmm, "emission.covariances[1][0][0]", "emission.covariances[1][0][0]"),

        // bocpd.
        ("bocpd-levels", "observation.variance", "observation.variance"),
        ("bocpd-levels", "observation.priorVariance", "observation.priorVariance"),
        (NormalGamma, "observation.beta[1]", "observation.beta[1]"),

        // anomaly-detector: variances in units of the noise variance.
        ("nab-detector", "initialLevelVariance", "initialLevelVariance"),
        ("nab-detector", "seasonalBinNoise", "seasonalBinNoise"),
        ("nab-detector", "initialBinVariance", "initialBinVariance"),

        // recurrent-ukf and recurrent-particle.
        ("recurrent-sensor-ukf", "observationNoise", "observationNoise"),
        ("recurrent-sensor-ukf", "processNoise", "processNoise"),
        ("recurrent-sensor-ukf", "initialVariance", "initialVariance"),
        ("recurrent-sensor-particle", "observationNoise", "observationNoise"),
        ("recurrent-sensor-particle", "processNoise", "processNoise"),
        ("recurrent-sensor-particle", "initialVariance", "initialVariance"),
    ];

    /// <summary>The Ornstein–Uhlenbeck volatility, bounded by <see cref="DeviationBound"/>: (spec, path, field).</summary>
    public static (string Spec, string Path, string Field) Volatility { get; } = (OrnsteinUhlenbeck, "preset.volatility", "preset.volatility");

    /// <summary>Fields that are not variances (times, means, a recurrent network's normalisation): (spec, path).</summary>
    public static IReadOnlyList<(string Spec, string Path)> NotVariances { get; } =
    [
        ("sensors", "components[1].period"),
        ("hmm-regimes", "emission.means[0]"),
        ("bocpd-levels", "observation.priorMean"),
        ("nile", "initialMean[0]"),
        ("recurrent-nar", "normalization.scale[0]"),
        ("recurrent-nar", "normalization.mean[0]"),
        ("recurrent-sensor-ukf", "normalization.mean[0]"),
    ];

    /// <summary>An example (by name) or a spec's JSON with the value at <paramref name="path"/> replaced by the JSON
    /// <paramref name="value"/>, and the folder its relative file names are in (examples/ for an example).</summary>
    public static (string Json, string? BaseDirectory) With(string spec, string path, string value)
    {
        var fromExample = !spec.StartsWith('{');
        var root = JsonNode.Parse(fromExample ? File.ReadAllText(RepositoryFiles.Path("examples", spec + ".json")) : spec)!;
        var node = root;
        var steps = Step().Matches(path).Select(m => m.Value).ToArray();
        for (var i = 0; i < steps.Length; i++)
        {
            var last = i == steps.Length - 1;
            var replacement = last ? JsonNode.Parse(value) : null;
            if (steps[i].StartsWith('['))
            {
                var index = int.Parse(steps[i][1..^1], CultureInfo.InvariantCulture);
                if (last)
                {
                    node.AsArray()[index] = replacement;
                }
                else
                {
                    node = node.AsArray()[index]!;
                }
            }
            else if (last)
            {
                node.AsObject()[steps[i]] = replacement;
            }
            else
            {
                node = node[steps[i]]!;
            }
        }

        return (root.ToJsonString(), fromExample ? RepositoryFiles.Path("examples") : null);
    }

    [GeneratedRegex(@"[A-Za-z]+|\[\d+\]")]
    private static partial Regex Step();
}
