using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Tests.Specs;

public sealed class ModelCatalogTests
{
    private const string Nile = """
        {"name":"nile","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[1469.1]],
         "observation":[[1]],"observationNoise":[[15099]],"initialMean":[0],"initialCovariance":[[1e7]]}
        """;

    [Fact]
    public void Build_DesignExampleSpec_GivesLocalLevelFilter()
    {
        var est = ModelCatalog.Build(ModelSpec.Parse(Nile));
        Assert.Equal(1, est.Info.StateDimension);
        Assert.Equal(1, est.Info.ObservationDimension);
        Assert.False(est.Info.UsesTimeGap);
        Assert.True(est.Info.CanSmooth);
    }

    [Theory]
    [InlineData("\"transitionNoise\":[[1469.1]]", "\"transitionNoise\":[[1,0],[0,1]]", "transitionNoise", "1x1")]
    [InlineData("\"observationNoise\":[[15099]]", "\"observationNoise\":[[-1]]", "observationNoise", "positive semi-definite")]
    [InlineData("\"kind\":\"linear-gaussian\"", "\"kind\":\"kalmann\"", "kind", "unknown kind 'kalmann'")]
    [InlineData("\"observation\":[[1]],", "", "observation", "required")]
    [InlineData("\"initialMean\":[0]", "\"initialMean\":[0],\"tranzition\":1", "tranzition", "not a known field")]
    [InlineData("\"transition\":[[1]]", "\"transition\":[[\"one\"]]", "transition[0][0]", "finite number")]
    [InlineData("\"transitionNoise\":[[1469.1]]", "\"transitionNoise\":[[1469.1]],\"timeUnit\":\"fortnight\"", "timeUnit", "not a duration")]
    [InlineData("\"initialMean\":[0]", "\"initialMean\":[0],\"adapt\":[\"observationNoise\"],\"adaptation\":{\"priorWeight\":1e12}", "adaptation.priorWeight", "at most 1e9 readings, got 1000000000000")]
    public void Build_MalformedSpec_FailsNamingTheField(string from, string to, string field, string problem)
    {
        var json = Nile.Replace(from, to, StringComparison.Ordinal);
        Assert.NotEqual(Nile, json);
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_ComponentsWithBadPreset_NamesTheComponent()
    {
        var json = """
            {"name":"x","kind":"linear-gaussian","observationNoise":[[1]],
             "components":[{"type":"local-level","levelNoise":1},{"type":"trigonometric-seasonal","period":-24,"seasonalNoise":1}]}
            """;
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));
        Assert.Equal("components[1].period", e.Field);
    }

    [Fact]
    public void Build_StructuralSum_StacksComponentsAndUsesTimeGaps()
    {
        var json = """
            {"name":"room","kind":"linear-gaussian","timeUnit":"PT1M","observationNoise":[[0.25]],
             "components":[{"type":"local-linear-trend","levelNoise":0.01,"slopeNoise":0.0001},
                           {"type":"trigonometric-seasonal","period":1440,"harmonics":2,"seasonalNoise":0.001},
                           {"type":"ornstein-uhlenbeck","meanReversion":0.1,"volatility":0.5}]}
            """;
        var spec = ModelSpec.Parse(json);
        Assert.Equal(TimeSpan.FromMinutes(1), spec.TimeUnit);
        var est = ModelCatalog.Build(spec);
        Assert.Equal(2 + 4 + 1, est.Info.StateDimension);
        Assert.True(est.Info.UsesTimeGap);
    }

    [Fact]
    public void Register_KindFromAnotherAssembly_IsFoundBuiltAndIdempotent()
    {
        ModelCatalog.Register(new ConstantKind());
        ModelCatalog.Register(new ConstantKind());
        Assert.Single(ModelCatalog.All, k => k.Kind == "test-constant");
        Assert.Equal("linear-gaussian", ModelCatalog.All[0].Kind);
        var estimator = ModelCatalog.Build(ModelSpec.Parse("""{"name":"c","kind":"test-constant","level":2}"""));
        Assert.Equal("kalman", estimator.Info.Family);
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse("""{"name":"c","kind":"test-constant","level":2,"levle":3}""")));
        Assert.Equal("levle", e.Field);
    }

    [Fact]
    public void Register_AnotherTypeUnderABuiltInName_Throws()
    {
        var e = Assert.Throws<InvalidOperationException>(() => ModelCatalog.Register(new ImpostorKind()));
        Assert.Contains("linear-gaussian", e.Message, StringComparison.Ordinal);
    }

    private sealed class ConstantKind : IModelKind
    {
        public string Kind => "test-constant";

        public string Description => "A registered test kind.";

        public IEstimator Build(SpecReader spec) =>
            ModelCatalog.Build(ModelSpec.Parse(Nile.Replace("\"initialMean\":[0]", $"\"initialMean\":[{spec.Number("level")}]", StringComparison.Ordinal)));
    }

    private sealed class ImpostorKind : IModelKind
    {
        public string Kind => "linear-gaussian";

        public string Description => "Not the real one.";

        public IEstimator Build(SpecReader spec) => throw new NotSupportedException();
    }
}
