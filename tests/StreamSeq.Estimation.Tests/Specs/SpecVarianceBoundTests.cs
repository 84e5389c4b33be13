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
public sealed class SpecVarianceBoundTests
{
    private const string StochasticVolatilityWithout = """{"name":"t","kind":"particle","particles":10,"model":{"type":"stochastic-volatility","persistence":""";

    private const string OrnsteinUhlenbeckWithout = """{"name":"t","kind":"linear-gaussian","components":[{"type":"local-level","levelNoise":1},{"type":"ornstein-uhlenbeck","meanReversion":""";

    private const string OrnsteinUhlenbeckProblem = "stationary variance σ²/(2θ) of an ornstein-uhlenbeck component) gives state 1 a variance of";

    /// <summary>The next double above the bound.</summary>
    private const string JustAbove = SpecVarianceBounds.JustAbove;

    private const string Bound = SpecVarianceBounds.Bound;

    /// <summary>A variance or covariance entry of each kind: (spec, where to write the value, the field the error names).
    /// The table is shared with the model-spec schema's tests (tests/Shared/SpecVarianceBounds.cs).</summary>
    public static TheoryData<string, string, string> Variances()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (spec, path, field) in SpecVarianceBounds.Variances)
        {
            data.Add(spec, path, field);
        }

        return data;
    }

    public static TheoryData<string, string> NotVariances()
    {
        var data = new TheoryData<string, string>();
        foreach (var (spec, path) in SpecVarianceBounds.NotVariances)
        {
            data.Add(spec, path);
        }

        return data;
    }

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
        var above = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(With(SpecVarianceBounds.Volatility.Spec, SpecVarianceBounds.Volatility.Path, SpecVarianceBounds.DeviationJustAbove)));

        Assert.Equal(SpecVarianceBounds.Volatility.Field, above.Field);
        Assert.StartsWith("must be at most 1E+150", above.Problem, StringComparison.Ordinal);
        Assert.NotNull(ModelCatalog.Build(With(SpecVarianceBounds.Volatility.Spec, SpecVarianceBounds.Volatility.Path, SpecVarianceBounds.DeviationBound)));
    }

    /// <summary>
    /// A default prior derived from other fields, above the bound: the error names the fields it comes from, not the
    /// prior field the spec does not have. A stochastic-volatility model without initialVariance starts from the
    /// stationary σ²/(1 − φ²) (the error named model.initialVariance); an Ornstein–Uhlenbeck component without
    /// initialMean and initialCovariance from its stationary σ²/(2θ) (the error named initialCovariance). Null field:
    /// the spec loads.
    /// </summary>
    [Theory]
    [InlineData(StochasticVolatilityWithout + "0.9,\"volatility\":1e200}}", "model.volatility", "stationary variance σ²/(1 − φ²) of Infinity")]
    [InlineData(StochasticVolatilityWithout + "0.9,\"volatility\":1e149}}", null, null)]
    [InlineData(OrnsteinUhlenbeckWithout + "1e-300,\"volatility\":1e10}],\"observationNoise\":[[1]]}", "components", OrnsteinUhlenbeckProblem)]
    [InlineData(OrnsteinUhlenbeckWithout + "1e-200,\"volatility\":1e60}],\"observationNoise\":[[1]]}", "components", OrnsteinUhlenbeckProblem)]
    [InlineData(OrnsteinUhlenbeckWithout + "1,\"volatility\":1e150}],\"observationNoise\":[[1]]}", null, null)]
    public void Build_DefaultPriorAboveTheBound_NamesTheFieldsItComesFrom(string json, string? field, string? problem)
    {
        var spec = ModelSpec.Parse(json);

        if (field is null)
        {
            Assert.NotNull(ModelCatalog.Build(spec));
            return;
        }

        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(spec));
        Assert.Equal(field, e.Field);
        Assert.Contains(problem!, e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(NotVariances))]
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

        // Points above the bound do not load, so the optimiser stops below it and the spec runs again. Both variances
        // want about 1e302; which one ends at the bound depends on the optimiser's path.
        var fitted = ModelSpec.Parse(result.Spec.ToJsonString());
        Assert.NotNull(ModelCatalog.Build(fitted));
        Assert.Contains(result.Diagnostics!.Warnings, w => w.StartsWith("observationNoise[0][0] went to its upper bound 1E+300", StringComparison.Ordinal) || w.StartsWith("transitionNoise[0][0] went to its upper bound 1E+300", StringComparison.Ordinal));
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
        var (json, baseDirectory) = SpecVarianceBounds.With(spec, path, value);
        return ModelSpec.Parse(json, baseDirectory: baseDirectory);
    }
}
