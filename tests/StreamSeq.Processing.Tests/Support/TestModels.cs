using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;

namespace StreamSeq.Processing.Tests.Support;

internal static class TestModels
{
    public const string LocalLevel = """
        {"name":"ll","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[1]],
         "observation":[[1]],"observationNoise":[[4]],"initialMean":[0],"initialCovariance":[[100]]}
        """;

    public const string Trend = """
        {"name":"trend","kind":"linear-gaussian","timeUnit":"1s",
         "components":[{"type":"local-linear-trend","levelNoise":0.1,"slopeNoise":0.01}],"observationNoise":[[1]],
         "anomalyRules":[{"name":"surprise","type":"chi-square","threshold":0.001,"clearThreshold":0.2}]}
        """;

    public static ModelBinding Binding(string json, int lag = 0, int horizon = 0) =>
        ModelBindingFactory.FromSpec(ModelSpec.Parse(json), lag, horizon);

    public static ModelRouter Router(params ModelBinding[] bindings) => new(bindings);
}
