using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Specs;
using StreamSeq.Testing;

namespace StreamSeq.Estimation.Tests.Specs;

/// <summary>
/// Spec variances near the largest double. A filter adds variances to each other, so one above half the largest double
/// made the first sum infinite: a linear-gaussian spec with <c>"observationNoise": [[1.7e308]]</c> ran to the end
/// with "Infinity" covariances and <c>health: ["diffuse"]</c> in every record, and one with a level noise of 1e308
/// reported "reinitialized" in every record, with no word of why. The bound is that of a parameter table's starting
/// values (1e300); it applies to the variances and covariance entries of each kind, not to means, times or weights.
/// </summary>
public sealed partial class SpecVarianceBoundTests
{
    /// <summary>The next double above the bound.</summary>
    private const string JustAbove = "1.0000000000000002e300";

    private const string Bound = "1e300";

    private const string LocalLevel = """{"name":"t","kind":"linear-gaussian","components":[{"type":"local-level","levelNoise":1}],"observationNoise":[[1]]}""";

    private const string ConstantVelocity = """{"name":"t","kind":"linear-gaussian","components":[{"type":"constant-velocity","accelerationNoise":1}],"observationNoise":[[1]]}""";

    private const string ConstantAcceleration = """{"name":"t","kind":"linear-gaussian","components":[{"type":"constant-acceleration","jerkNoise":1}],"observationNoise":[[1]]}""";

    private const string OrnsteinUhlenbeck = """{"name":"t","kind":"linear-gaussian","preset":{"type":"ornstein-uhlenbeck","meanReversion":1,"volatility":1},"observationNoise":[[1]],"initialMean":[0],"initialCovariance":[[1]]}""";

    private const string PendulumParticles = """{"name":"t","kind":"particle","particles":10,"model":{"type":"pendulum","accelerationNoise":0.1,"observationNoise":0.01,"initialMean":[1,0],"initialCovariance":[[0.01,0],[0,0.04]]}}""";

    private const string StochasticVolatility = """{"name":"t","kind":"particle","particles":10,"model":{"type":"stochastic-volatility","persistence":0.9,"volatility":0.3,"initialVariance":1}}""";

    private const string MultivariateHmm = """{"name":"t","kind":"hmm","initialProbabilities":[0.5,0.5],"transition":[[0.9,0.1],[0.1,0.9]],"emission":{"type":"multivariate-gaussian","means":[[0,0],[1,1]],"covariances":[[[1,0],[0,1]],[[1,0],[0,1]]]}}""";

    private const string NormalGamma = """{"name":"t","kind":"bocpd","hazard":{"type":"constant","rate":0.01},"observation":{"type":"normal-gamma","priorMean":0,"kappa":1,"alpha":2,"beta":[1,1]}}""";

    /// <summary>A variance or covariance entry of each kind: (spec, where to write the value, the field the error names).</summary>
    public static TheoryData<string, string, string> Variances => new()
    {
        // linear-gaussian, components and matrices.
        { "sensors", "observationNoise[0][0]", "observationNoise[0][0]" },
        { "sensors", "components[0].levelNoise", "components[0].levelNoise" },
        { "sensors", "components[0].slopeNoise", "components[0].slopeNoise" },
        { "sensors", "components[1].seasonalNoise", "components[1].seasonalNoise" },
        { LocalLevel, "components[0].levelNoise", "components[0].levelNoise" },
        { ConstantVelocity, "components[0].accelerationNoise", "components[0].accelerationNoise" },
        { ConstantAcceleration, "components[0].jerkNoise", "components[0].jerkNoise" },
        { "nile", "transitionNoise[0][0]", "transitionNoise[0][0]" },
        { "nile", "observationNoise[0][0]", "observationNoise[0][0]" },
        { "nile", "initialCovariance[0][0]", "initialCovariance[0][0]" },
        { OrnsteinUhlenbeck, "initialCovariance[0][0]", "initialCovariance[0][0]" },

        // imm: each mode is a linear-gaussian model.
        { "imm-manoeuvre", "modes[1].transitionNoise[2][2]", "modes[1].transitionNoise[2][2]" },
        { "imm-manoeuvre", "modes[0].observationNoise[1][1]", "modes[0].observationNoise[1][1]" },
        { "imm-manoeuvre", "modes[0].initialCovariance[0][0]", "modes[0].initialCovariance[0][0]" },

        // extended-kalman and unscented-kalman.
        { "growth-ekf", "model.transitionNoise", "model.transitionNoise" },
        { "growth-ekf", "model.observationNoise", "model.observationNoise" },
        { "growth-ekf", "model.initialCovariance[0][0]", "model.initialCovariance[0][0]" },
        { "pendulum-ukf", "model.qc", "model.qc" },
        { "pendulum-ukf", "model.observationNoise", "model.observationNoise" },
        { "pendulum-ukf", "model.initialCovariance[1][1]", "model.initialCovariance[1][1]" },

        // particle.
        { "particle-growth", "model.initialVariance", "model.initialVariance" },
        { "particle-growth", "model.transitionNoise", "model.transitionNoise" },
        { "particle-growth", "model.observationNoise", "model.observationNoise" },
        { PendulumParticles, "model.accelerationNoise", "model.accelerationNoise" },
        { PendulumParticles, "model.observationNoise", "model.observationNoise" },
        { PendulumParticles, "model.initialCovariance[0][0]", "model.initialCovariance[0][0]" },
        { StochasticVolatility, "model.initialVariance", "model.initialVariance" },

        // hmm.
        { "hmm-regimes", "emission.variances[1]", "emission.variances[1]" },
        { MultivariateHmm, "emission.covariances[1][0][0]", "emission.covariances[1][0][0]" },

        // bocpd.
        { "bocpd-levels", "observation.variance", "observation.variance" },
        { "bocpd-levels", "observation.priorVariance", "observation.priorVariance" },
        { NormalGamma, "observation.beta[1]", "observation.beta[1]" },

        // anomaly-detector: variances in units of the noise variance.
        { "nab-detector", "initialLevelVariance", "initialLevelVariance" },
        { "nab-detector", "seasonalBinNoise", "seasonalBinNoise" },
        { "nab-detector", "initialBinVariance", "initialBinVariance" },

        // recurrent-ukf and recurrent-particle.
        { "recurrent-sensor-ukf", "observationNoise", "observationNoise" },
        { "recurrent-sensor-ukf", "processNoise", "processNoise" },
        { "recurrent-sensor-ukf", "initialVariance", "initialVariance" },
        { "recurrent-sensor-particle", "observationNoise", "observationNoise" },
        { "recurrent-sensor-particle", "processNoise", "processNoise" },
        { "recurrent-sensor-particle", "initialVariance", "initialVariance" },
    };

    [Theory]
    [MemberData(nameof(Variances))]
    public void Build_VarianceJustAboveTheBound_IsRefusedNamingTheField(string spec, string path, string field)
    {
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(With(spec, path, JustAbove)));

        Assert.Equal(field, e.Field);
        Assert.StartsWith("must be at most 1E+300", e.Problem, StringComparison.Ordinal);
        Assert.EndsWith("got 1.0000000000000002E+300.", e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Variances))]
    public void Build_VarianceAtTheBound_IsAccepted(string spec, string path, string field)
    {
        Assert.NotNull(field);

        Assert.NotNull(ModelCatalog.Build(With(spec, path, Bound)));
    }

    [Fact]
    public void Build_ObservationNoiseNearTheLargestDouble_IsRefusedBeforeAnyRecordCarriesInfinity()
    {
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(With("sensors", "observationNoise[0][0]", "1.7e308")));

        Assert.Equal("observationNoise[0][0]", e.Field);
        Assert.Equal("must be at most 1E+300 (a larger variance overflows when the filter adds it to another), got 1.7E+308.", e.Problem);
    }

    [Fact]
    public void Build_OrnsteinUhlenbeckVolatility_IsBoundedByItsSquare()
    {
        var above = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(With(OrnsteinUhlenbeck, "preset.volatility", "1.0000000000000002e150")));

        Assert.Equal("preset.volatility", above.Field);
        Assert.StartsWith("must be at most 1E+150", above.Problem, StringComparison.Ordinal);
        Assert.NotNull(ModelCatalog.Build(With(OrnsteinUhlenbeck, "preset.volatility", "1e150")));
    }

    /// <summary>
    /// Without initialMean and initialCovariance an Ornstein–Uhlenbeck component starts from its stationary variance
    /// σ²/(2θ), which overflowed for a slow reversion; the error named initialCovariance, which the spec does not have.
    /// </summary>
    [Theory]
    [InlineData("1e-300", "1e10", false)]
    [InlineData("1e-200", "1e60", false)]
    [InlineData("1", "1e150", true)]
    public void Build_OrnsteinUhlenbeckDefaultPrior_AboveTheBoundNamesTheComponents(string meanReversion, string volatility, bool accepted)
    {
        var spec = $$"""{"name":"t","kind":"linear-gaussian","components":[{"type":"local-level","levelNoise":1},{"type":"ornstein-uhlenbeck","meanReversion":{{meanReversion}},"volatility":{{volatility}}}],"observationNoise":[[1]]}""";

        if (accepted)
        {
            Assert.NotNull(ModelCatalog.Build(ModelSpec.Parse(spec)));
            return;
        }

        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(spec)));
        Assert.Equal("components", e.Field);
        Assert.Contains("stationary variance σ²/(2θ) of an ornstein-uhlenbeck component) gives state 1 a variance of", e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sensors", "components[1].period")]
    [InlineData("hmm-regimes", "emission.means[0]")]
    [InlineData("bocpd-levels", "observation.priorMean")]
    [InlineData("nile", "initialMean[0]")]
    [InlineData("recurrent-nar", "normalization.scale[0]")]
    [InlineData("recurrent-nar", "normalization.mean[0]")]
    [InlineData("recurrent-sensor-ukf", "normalization.mean[0]")]
    public void Build_LargeValueThatIsNotAVariance_IsNotBounded(string spec, string path)
    {
        // Times, means and a recurrent network's normalisation are not added as variances: data of that size may
        // legitimately need them (the filter's own numbers may then overflow, which the records report).
        Assert.NotNull(ModelCatalog.Build(With(spec, path, "1e305")));
    }

    [Theory]
    [InlineData("""{"name":"t","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[1]],"observation":[[1]],"observationNoise":[[1]],"initialization":"diffuse"}""", "observationNoise,transitionNoise", "transitionNoise[0][0]")]
    [InlineData("""{"name":"t","kind":"linear-gaussian","components":[{"type":"local-level","levelNoise":1}],"observationNoise":[[1]]}""", "components[0].levelNoise", "components[0].levelNoise")]
    public void FitEm_LinearGaussianEstimateAboveTheBound_FailsNamingItInsteadOfWritingASpecRunRefuses(string spec, string parameters, string field)
    {
        // Before, the M-step's estimate (about 4e301) failed to load, and EM silently kept its starting values.
        var e = Assert.Throws<ModelValidationException>(() => LinearGaussianEm.Fit(ModelSpec.Parse(spec), [Huge()], parameters.Split(','), new FitOptions()));

        Assert.Equal("fit", e.Field);
        Assert.StartsWith($"the estimate of {field} is ", e.Problem, StringComparison.Ordinal);
        Assert.Contains("above the most a spec may hold (1E+300;", e.Problem, StringComparison.Ordinal);
        Assert.Contains("rescale the readings", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void FitEm_HmmVarianceAboveTheBound_FailsNamingItInsteadOfWritingASpecRunRefuses()
    {
        var spec = ModelSpec.Parse("""{"name":"t","kind":"hmm","initialProbabilities":[0.5,0.5],"transition":[[0.9,0.1],[0.1,0.9]],"emission":{"type":"gaussian","means":[-1e151,1e151],"variances":[1e300,1e300]}}""");

        var e = Assert.Throws<ModelValidationException>(() => new HmmKind().FitEm(spec, [Huge()], ["emission"], new FitOptions()));

        Assert.Equal("fit", e.Field);
        Assert.Matches(@"^the estimate of emission\.variances\[\d\] is \d\.\d+E\+30\d, above the most a spec may hold \(1E\+300;", e.Problem);
    }

    [Fact]
    public void FitMle_VarianceDrivenToTheBound_StaysBelowItAndSaysSo()
    {
        var spec = ModelSpec.Parse("""{"name":"t","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[1]],"observation":[[1]],"observationNoise":[[1]],"initialization":"diffuse"}""");

        var result = MaximumLikelihood.Fit(spec, [Huge()], ["observationNoise", "transitionNoise"]);

        // Points above the bound do not load, so the optimiser stops below it and the spec runs again.
        var fitted = ModelSpec.Parse(result.Spec.ToJsonString());
        Assert.NotNull(ModelCatalog.Build(fitted));
        Assert.Contains(result.Diagnostics!.Warnings, w => w.StartsWith("observationNoise[0][0] went to its upper bound 1E+300", StringComparison.Ordinal));
    }

    /// <summary>A random walk observed with noise, in units of 1e151: its variances are about 1e302.</summary>
    private static ObservationSeries Huge()
    {
        var random = new Random(1);
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var level = 0.0;
        var y = new double[100];
        for (var t = 0; t < y.Length; t++)
        {
            level += Gauss();
            y[t] = (level + Gauss()) * 1e151;
        }

        return new ObservationSeries(1, y);
    }

    /// <summary>An example (by name) or a spec's JSON with the value at <paramref name="path"/> replaced.</summary>
    private static ModelSpec With(string spec, string path, string value)
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

        return ModelSpec.Parse(root.ToJsonString(), baseDirectory: fromExample ? RepositoryFiles.Path("examples") : null);
    }

    [GeneratedRegex(@"[A-Za-z]+|\[\d+\]")]
    private static partial Regex Step();
}
