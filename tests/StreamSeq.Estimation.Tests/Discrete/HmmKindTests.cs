using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Discrete;

public sealed class HmmKindTests
{
    [Fact]
    public void Build_OracleSpec_GivesHmmFilterWithExtras()
    {
        var est = ModelCatalog.Build(ModelSpec.Parse(HmmOracle.Spec));
        var filter = Assert.IsType<HiddenMarkovFilter>(est);
        Assert.Equal(3, est.Info.StateDimension);
        Assert.Equal(1, est.Info.ObservationDimension);
        Assert.True(est.Info.CanSmooth);
        Assert.Equal(["stateProbabilities", "viterbiHead", "mostLikelyState"], est.Info.Extras.Select(e => e.Name));
        Assert.Equal(HmmOracle.A, filter.Model.Transition.ToArray());
    }

    [Theory]
    [InlineData("[0.05,0.90,0.05]", "[0.05,0.85,0.05]", "transition[1]", "row 1 sums to 0.95")]
    [InlineData("\"variances\":[1.0,0.5,2.0]", "\"variances\":[1.0,0.5,0]", "emission.variances[2]", "positive")]
    [InlineData("\"variances\":[1.0,0.5,2.0]", "\"variances\":[1.0,0.5]", "emission.variances", "3 entries")]
    [InlineData("[0.5,0.3,0.2]", "[-0.5,1.3,0.2]", "initialProbabilities[0]", "probability")]
    [InlineData("[0.5,0.3,0.2]", "[0.5,0.3,0.3]", "initialProbabilities", "sums to")]
    [InlineData("\"type\":\"gaussian\"", "\"type\":\"gausian\"", "emission.type", "unknown emission type")]
    [InlineData("[[0.90,0.07,0.03],[0.05,0.90,0.05],[0.04,0.06,0.90]]", "[[0.90,0.10],[0.05,0.95]]", "transition", "3x3")]
    [InlineData("\"variances\":[1.0,0.5,2.0]", "\"variances\":[1.0,0.5,2.0],\"mean\":1", "emission.mean", "not a known field")]
    public void Build_InvalidSpec_FailsNamingTheField(string from, string to, string field, string problem)
    {
        var json = HmmOracle.Spec.Replace(from, to, StringComparison.Ordinal);
        Assert.NotEqual(HmmOracle.Spec, json);
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":"multivariate-gaussian","means":[[0,0],[1,1]],"covariances":[[[1,0],[0,1]],[[1,2],[2,1]]]}""", "emission.covariances[1]", "positive semi-definite")]
    [InlineData("""{"type":"multivariate-gaussian","means":[[0,0],[1,1]],"covariances":[[[1,0],[0,1]],[[1,0],[0,"x"]]]}""", "emission.covariances[1][1][1]", "finite number")]
    [InlineData("""{"type":"categorical","probabilities":[[0.5,0.6],[0.5,0.5]]}""", "emission.probabilities[0]", "row 0 sums to")]
    [InlineData("""{"type":"poisson","rates":[1,-2]}""", "emission.rates[1]", "positive")]
    [InlineData("""{"type":"student-t","locations":[0,1],"scales":[1,1],"degreesOfFreedom":[3,0]}""", "emission.degreesOfFreedom[1]", "positive")]
    [InlineData("""{"type":"student-t","locations":[0,1],"scales":[0,1],"degreesOfFreedom":[3,3]}""", "emission.scales[0]", "positive")]
    public void Build_InvalidEmission_FailsNamingTheField(string emission, string field, string problem)
    {
        var json = $$"""{"name":"x","kind":"hmm","initialProbabilities":[0.5,0.5],"transition":[[0.9,0.1],[0.1,0.9]],"emission":{{emission}}}""";
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":"multivariate-gaussian","means":[[0,0],[1,1]],"covariances":[[[1,0.2],[0.2,1]],[[2,0],[0,1]]]}""", 2)]
    [InlineData("""{"type":"categorical","probabilities":[[0.5,0.5,0],[0.1,0.1,0.8]]}""", 1)]
    [InlineData("""{"type":"poisson","rates":[1,5]}""", 1)]
    [InlineData("""{"type":"student-t","locations":[0,1],"scales":[1,2],"degreesOfFreedom":[3,30]}""", 1)]
    public void Build_EachEmissionType_BuildsFilter(string emission, int m)
    {
        var json = $$"""{"name":"x","kind":"hmm","initialProbabilities":[0.5,0.5],"transition":[[0.9,0.1],[0.1,0.9]],"viterbiWindow":5,"emission":{{emission}}}""";
        var est = ModelCatalog.Build(ModelSpec.Parse(json));
        Assert.Equal(m, est.Info.ObservationDimension);
        Assert.Equal(5, ((HiddenMarkovFilter)est).ViterbiWindow);
    }
}
