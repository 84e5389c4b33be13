using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Learning;

public sealed class MaximumLikelihoodNileTests
{
    private static ObservationSeries Nile() => new(1, OracleCsv.Load("nile", "nile_data.csv")["volume"]);

    [Theory]
    [InlineData("\"initialization\":\"diffuse\"", 15098.517771749346, 1469.176038961787, -633.4645636362455)]
    [InlineData("\"initialMean\":[0],\"initialCovariance\":[[1e7]]", 15099.686351807792, 1468.500125697868, -641.5855783460864)]
    public void Fit_NileLocalLevel_RecoversPublishedMaximumLikelihood(string init, double s2Eps, double s2Eta, double loglik)
    {
        // Start far from the optimum so the test exercises the optimiser, not the starting values.
        var spec = ModelSpec.Parse($$"""
            {"name":"nile","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[100]],
             "observation":[[1]],"observationNoise":[[100]],{{init}}}
            """);
        var result = MaximumLikelihood.Fit(spec, [Nile()], ["observationNoise", "transitionNoise"]);
        var fittedEps = result.Spec["observationNoise"]![0]![0]!.GetValue<double>();
        var fittedEta = result.Spec["transitionNoise"]![0]![0]!.GetValue<double>();

        // The likelihood is flat: the oracle's MLE is good to about 1e-6 relative and its log-likelihood to 1e-9.
        Expect.Close(loglik, result.LogLikelihood, 1e-9, "maximised loglik", absTol: 1e-7);
        Expect.Close(s2Eps, fittedEps, 1e-4, "s2_eps");
        Expect.Close(s2Eta, fittedEta, 1e-4, "s2_eta");
        Assert.True(result.Converged);
    }

    /// <summary>
    /// The same readings in other units: the maximum moves by k² in every variance and by −99 ln k in the exact-diffuse
    /// log-likelihood (99 readings after the diffuse one). From the spec's start (100, 100), readings a million times
    /// larger ended in a corner: all the variance in the observation noise, the level noise at 0, the log-likelihood
    /// 18 below the maximum.
    /// </summary>
    [Theory]
    [InlineData(1e-6)]
    [InlineData(1e6)]
    [InlineData(1e10)]
    [InlineData(1e50)]
    public void Fit_NileInOtherUnits_FindsTheSameMaximumRescaled(double k)
    {
        var spec = ModelSpec.Parse("""
            {"name":"nile","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[100]],
             "observation":[[1]],"observationNoise":[[100]],"initialization":"diffuse"}
            """);
        var readings = OracleCsv.Load("nile", "nile_data.csv")["volume"].Select(v => v * k).ToArray();

        var result = MaximumLikelihood.Fit(spec, [new ObservationSeries(1, readings)], ["observationNoise", "transitionNoise"]);

        Expect.Close(-633.4645636362455, result.LogLikelihood + (99 * Math.Log(k)), 1e-9, "maximised loglik, rescaled", absTol: 1e-7);
        Expect.Close(15098.517771749346, result.Spec["observationNoise"]![0]![0]!.GetValue<double>() / (k * k), 1e-4, "s2_eps / k²");
        Expect.Close(1469.176038961787, result.Spec["transitionNoise"]![0]![0]!.GetValue<double>() / (k * k), 1e-4, "s2_eta / k²");
    }

    [Fact]
    public void Fit_SimplexOutOfIterations_CountsTheIterationsItSpent()
    {
        // The simplex gets at least 50 iterations; when it spent them all, the count left them out ("after 3 iterations").
        var spec = ModelSpec.Parse("""{"name":"nile","kind":"linear-gaussian","transition":[[1]],"observation":[[1]],"transitionNoise":[[1000]],"observationNoise":[[10000]],"initialization":"diffuse"}""");

        var result = MaximumLikelihood.Fit(spec, [Nile()], ["observationNoise", "transitionNoise"], new FitOptions { MaxIterations = 5 });

        Assert.InRange(result.Iterations, 50, 55);
    }
}
