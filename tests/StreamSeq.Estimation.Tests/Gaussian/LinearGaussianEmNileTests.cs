using System.Text.Json;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;
using Xunit.Abstractions;

namespace StreamSeq.Estimation.Tests.Gaussian;

/// <summary>EM on the Nile local level model reaches the maximum-likelihood point of the statsmodels oracle.</summary>
public sealed class LinearGaussianEmNileTests(ITestOutputHelper output)
{
    private static ObservationSeries Nile() => new(1, OracleCsv.Load("nile", "nile_data.csv")["volume"]);

    private static JsonElement Scenario(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "nile", "nile_expected.json")));
        return doc.RootElement.GetProperty("scenarios").GetProperty(name).Clone();
    }

    [Theory]
    [InlineData("diffuse_full", "\"initialization\":\"diffuse\"")]
    [InlineData("fixedprior_full", "\"initialMean\":[0],\"initialCovariance\":[[1e7]]")]
    public void FitEm_NileLocalLevel_ConvergesToTheMaximumLikelihoodPoint(string scenario, string init)
    {
        var expected = Scenario(scenario);
        var spec = ModelSpec.Parse($$"""
            {"name":"nile","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[100]],
             "observation":[[1]],"observationNoise":[[100]],{{init}}}
            """);
        var result = new LinearGaussianKind().FitEm(spec, [Nile()], ["observationNoise", "transitionNoise"], new FitOptions());
        var eps = result.Spec["observationNoise"]![0]![0]!.GetValue<double>();
        var eta = result.Spec["transitionNoise"]![0]![0]!.GetValue<double>();
        output.WriteLine($"{scenario}: {result.Iterations} iterations, eps {eps:R} eta {eta:R} ll {result.LogLikelihood:R}");
        Assert.True(result.Converged);
        Assert.Equal("em", result.Method);
        Expect.Close(expected.GetProperty("loglik_at_mle").GetDouble(), result.LogLikelihood, 1e-9, "loglik", absTol: 1e-7);
        Expect.Close(expected.GetProperty("mle_s2_eps").GetDouble(), eps, 1e-5, "s2_eps");
        Expect.Close(expected.GetProperty("mle_s2_eta").GetDouble(), eta, 1e-5, "s2_eta");
    }
}
