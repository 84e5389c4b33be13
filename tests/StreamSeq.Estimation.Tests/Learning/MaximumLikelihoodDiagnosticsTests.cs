using System.Text.Json;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Learning;

/// <summary>
/// What a fit reports besides the estimates: standard errors from the observed information (checked against
/// statsmodels' numerical Hessian on Nile, Fixtures/nile/make_statsmodels_oim.py), the optimiser's reason for
/// stopping, and warnings, with <c>converged</c> false, when the data cannot identify a parameter.
/// </summary>
public sealed class MaximumLikelihoodDiagnosticsTests
{
    private const string LocalLevel = """
        {"name":"nile","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[100]],
         "observation":[[1]],"observationNoise":[[100]],"initialization":"diffuse"}
        """;

    [Fact]
    public void Fit_NileLocalLevel_StandardErrorsAreThoseOfTheObservedInformation()
    {
        var oracle = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "nile", "nile_statsmodels_oim.json"))).RootElement;
        var result = MaximumLikelihood.Fit(ModelSpec.Parse(LocalLevel), [Nile()], ["observationNoise", "transitionNoise"]);
        var d = result.Diagnostics!;
        Assert.True(result.Converged);
        Assert.True(d.StandardErrorsAvailable, d.StandardErrorNote);
        Assert.Empty(d.Warnings);
        Assert.StartsWith("BFGS: ", d.StopReason, StringComparison.Ordinal);
        Assert.Equal(["observationNoise[0][0]", "transitionNoise[0][0]"], d.Parameters.Select(p => p.Name));

        // statsmodels' cov_type='approx' is the numerical Hessian of the same exact-diffuse log-likelihood, on the
        // natural scale: 3145.5 and 1280.4 (its default 'oim', Harvey's formula, gives 2579.8 and 813.7 instead).
        var bse = oracle.GetProperty("bse_approx").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var parameters = oracle.GetProperty("params").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        for (var i = 0; i < 2; i++)
        {
            Expect.Close(parameters[i], d.Parameters[i].Estimate, 1e-4, $"{d.Parameters[i].Name} estimate");
            Expect.Close(bse[i], d.Parameters[i].StandardError, 2e-3, $"{d.Parameters[i].Name} standard error");

            // On the optimiser's (log) scale the same standard error divided by the estimate (delta method).
            Assert.Equal("log", d.Coordinates[i].Scale);
            Expect.Close(d.Parameters[i].StandardError / d.Parameters[i].Estimate, d.Coordinates[i].StandardError, 1e-6, $"{d.Coordinates[i].Name}");
        }
    }

    [Fact]
    public void Fit_NileLocalLevel_StandardErrorsMatchAnIndependentFiniteDifferenceHessian()
    {
        // Our own check on the natural scale: central differences of the log-likelihood in (σ²_ε, σ²_η) directly,
        // at the fitted point, inverted by hand.
        var result = MaximumLikelihood.Fit(ModelSpec.Parse(LocalLevel), [Nile()], ["observationNoise", "transitionNoise"]);
        var theta = result.Diagnostics!.Parameters.Select(p => p.Estimate).ToArray();
        double LogLik(double eps, double eta) => LogLikelihood.Evaluate(
            ModelCatalog.Build(ModelSpec.Parse(LocalLevel.Replace("[[100]],\"initialization", $"[[{eps:R}]],\"initialization", StringComparison.Ordinal).Replace("\"transitionNoise\":[[100]]", $"\"transitionNoise\":[[{eta:R}]]", StringComparison.Ordinal))),
            [Nile()]);
        double h0 = 1e-3 * theta[0], h1 = 1e-3 * theta[1];
        var f0 = LogLik(theta[0], theta[1]);
        var a = (LogLik(theta[0] + h0, theta[1]) - (2 * f0) + LogLik(theta[0] - h0, theta[1])) / (h0 * h0);
        var c = (LogLik(theta[0], theta[1] + h1) - (2 * f0) + LogLik(theta[0], theta[1] - h1)) / (h1 * h1);
        var b = (LogLik(theta[0] + h0, theta[1] + h1) - LogLik(theta[0] + h0, theta[1] - h1) - LogLik(theta[0] - h0, theta[1] + h1) + LogLik(theta[0] - h0, theta[1] - h1)) / (4 * h0 * h1);
        var det = (a * c) - (b * b);
        Expect.Close(Math.Sqrt(-c / det), result.Diagnostics.Parameters[0].StandardError, 5e-3, "se eps");
        Expect.Close(Math.Sqrt(-a / det), result.Diagnostics.Parameters[1].StandardError, 5e-3, "se eta");
    }

    [Fact]
    public void Fit_OneReadingForTwoParameters_IsNotConvergedAndSaysWhy()
    {
        var result = MaximumLikelihood.Fit(ModelSpec.Parse(LocalLevel), [new ObservationSeries(1, [1120.0])], ["observationNoise", "transitionNoise"]);
        var d = result.Diagnostics!;
        Assert.False(result.Converged);
        Assert.False(d.StandardErrorsAvailable);
        Assert.All(d.Parameters, p => Assert.True(double.IsNaN(p.StandardError)));
        Assert.Contains(d.Warnings, w => w.Contains("1 observed value for 2 free parameters", StringComparison.Ordinal));
        Assert.False(string.IsNullOrWhiteSpace(d.StopReason));
    }

    [Fact]
    public void Fit_TwoReadingsOfADiffuseLocalLevel_IsNotConvergedSinceTheFirstOneFixesTheLevel()
    {
        // Exact diffuse local level, two readings: the first determines μ_1 and contributes −½ log 2π whatever the
        // variances; the second has F_2 = (σ²_ε + σ²_η) + σ²_ε. So the log-likelihood depends on (σ²_ε, σ²_η) only
        // through 2σ²_ε + σ²_η: a ridge of maxima, not an identified one, although there are as many readings as
        // variances.
        var series = new ObservationSeries(1, [5.0, 6.0]);
        double LogLik(double eps, double eta) => LogLikelihood.Evaluate(
            ModelCatalog.Build(ModelSpec.Parse(LocalLevel.Replace("[[100]],\"initialization", $"[[{eps:R}]],\"initialization", StringComparison.Ordinal).Replace("\"transitionNoise\":[[100]]", $"\"transitionNoise\":[[{eta:R}]]", StringComparison.Ordinal))),
            [series]);
        Assert.Equal(LogLik(0.3, 0.4), LogLik(0.1, 0.8), 12);
        Assert.Equal(LogLik(0.3, 0.4), -0.5 * ((2 * Math.Log(2 * Math.PI)) + 1.0), 12);

        var result = MaximumLikelihood.Fit(ModelSpec.Parse(LocalLevel), [series], ["observationNoise", "transitionNoise"]);
        var d = result.Diagnostics!;
        Assert.False(result.Converged);
        Assert.False(d.IdentifiedMaximum);
        Assert.Equal(2, d.Observations);
        Assert.Equal(1, d.InformativeObservations);
        Assert.Contains(d.Warnings, w => w.Contains("2 observed values for 2 free parameters, and the exact diffuse start spends 1 of them on the initial state", StringComparison.Ordinal));

        // A third reading gives the second informative value.
        var three = MaximumLikelihood.Fit(ModelSpec.Parse(LocalLevel), [new ObservationSeries(1, [5.0, 6.0, 4.0])], ["observationNoise", "transitionNoise"]).Diagnostics!;
        Assert.Equal(2, three.InformativeObservations);
        Assert.DoesNotContain(three.Warnings, w => w.Contains("free parameters", StringComparison.Ordinal));
    }

    [Fact]
    public void Fit_ParameterTheLikelihoodDoesNotDependOn_IsNotConvergedAndNamesIt()
    {
        // With H = 0 the readings carry no information about the state, so the transition noise is not identified.
        var spec = ModelSpec.Parse("""
            {"name":"flat","kind":"linear-gaussian","transition":[[1]],"transitionNoise":[[100]],
             "observation":[[0]],"observationNoise":[[100]],"initialMean":[0],"initialCovariance":[[1]]}
            """);
        var result = MaximumLikelihood.Fit(spec, [Nile()], ["observationNoise", "transitionNoise"]);
        var d = result.Diagnostics!;
        Assert.False(result.Converged);
        Assert.False(d.StandardErrorsAvailable);
        Assert.Contains(d.Warnings, w => w.Contains("flat along log transitionNoise[0][0]", StringComparison.Ordinal));
        Assert.DoesNotContain(d.Warnings, w => w.Contains("observationNoise", StringComparison.Ordinal));
    }

    private static ObservationSeries Nile() => new(1, OracleCsv.Load("nile", "nile_data.csv")["volume"]);
}
