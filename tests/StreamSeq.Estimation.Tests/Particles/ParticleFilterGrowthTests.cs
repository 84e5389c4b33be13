using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Particles;
using StreamSeq.Estimation.Tests.Support;
using Xunit.Abstractions;

namespace StreamSeq.Estimation.Tests.Particles;

/// <summary>
/// The nonstationary growth model against the near-exact grid filter and the 20 runs of a 200,000-particle bootstrap
/// filter (oracles/nonlinear). Monte-Carlo tolerances scale the reference run-to-run standard deviations by
/// sqrt(200,000 / N), since a particle estimate's error shrinks like 1/sqrt(N).
/// </summary>
public sealed class ParticleFilterGrowthTests(ITestOutputHelper output)
{
    private const int ReferenceParticles = 200_000;
    private const int Particles = 20_000;

    internal static ObservationSeries Data()
    {
        var csv = OracleCsv.Load("nonlinear", "ngm_data.csv");
        return new ObservationSeries(1, csv["y"]);
    }

    private static double Scale => Math.Sqrt((double)ReferenceParticles / Particles);

    [Fact]
    public void Step_ReadingThatRestartsTheFilterAtStepTen_RedrawsTheStateOfStepTen()
    {
        // A restart at step t redraws h_{t-1} ~ N(0, 5) one step before its reading and propagates it with step t's
        // transition, as the first step does with step 1's: h_10 = f(h_9) + 8 cos(1.2 · 10) + v. f is odd, so the fresh
        // population's mean is 8 cos(12) = 6.7508 (the first step's drift 8 cos(1.2) would give 2.8989); its standard
        // deviation sqrt(E[f(h)²] + 10) = 10.76 (quadrature) makes the Monte-Carlo sd of the mean 0.034 at N = 100,000.
        var values = Data().Values[..10].ToArray();
        values[9] = 1e300;
        var pf = new ParticleFilter(new NonstationaryGrowthModel(), new ParticleFilterOptions { ParticleCount = 100_000 });
        var run = FilterRun.Execute(pf, new ObservationSeries(1, values), 7);
        Assert.True((run.Flags[9] & EstimateFlags.Reinitialized) != 0);
        Assert.InRange(run.PredictedMeans[9], (8 * Math.Cos(12.0)) - 0.2, (8 * Math.Cos(12.0)) + 0.2);
    }

    [Theory]
    [InlineData(7UL)]
    [InlineData(8UL)]
    public void Step_Ngm20000Particles_FilteredMeansWithinFiveMonteCarloSdOfGrid(ulong seed)
    {
        var reference = OracleCsv.Load("nonlinear", "ngm_reference_posterior.csv");
        var pf = new ParticleFilter(new NonstationaryGrowthModel(), new ParticleFilterOptions { ParticleCount = Particles, EssThreshold = 1.0 });
        var run = FilterRun.Execute(pf, Data(), seed);
        var worst = 0.0;
        for (var t = 0; t < reference.RowCount; t++)
        {
            // sd of the 200k-particle mean across seeds, scaled to N; the grid is exact to 1e-14.
            var sd = reference["pf_filt_mean_sd_across_seeds"][t] * Scale;
            var z = Math.Abs(run.Means[t] - reference["grid_filt_mean"][t]) / sd;
            Assert.True(z <= 5.0, $"t={t + 1}: PF mean {run.Means[t]} vs grid {reference["grid_filt_mean"][t]} is {z:F2} Monte-Carlo sd off");
            worst = Math.Max(worst, z);
            Assert.Equal(t == 0 ? 0.0 : 1.0, run.Extras[(2 * t) + 1]);
        }

        output.WriteLine($"seed {seed}: worst |PF - grid| = {worst:F2} sd");
    }

    [Fact]
    public void Step_Ngm_PredictedMomentsMatchGridPrediction()
    {
        var reference = OracleCsv.Load("nonlinear", "ngm_reference_posterior.csv");
        var pf = new ParticleFilter(new NonstationaryGrowthModel(), new ParticleFilterOptions { ParticleCount = Particles, EssThreshold = 1.0 });
        var run = FilterRun.Execute(pf, Data(), 3);
        var worst = 0.0;
        for (var t = 0; t < reference.RowCount; t++)
        {
            // The predictive mean is a plain average of N propagated particles: its standard error is
            // sqrt(pred_var / N) for independent draws; resampling correlation inflates it, so allow 6 of them.
            var se = Math.Sqrt(reference["grid_pred_var"][t] / Particles);
            var z = Math.Abs(run.PredictedMeans[t] - reference["grid_pred_mean"][t]) / se;
            worst = Math.Max(worst, z);
            Assert.True(z <= 6.0, $"t={t + 1}: predicted mean off by {z:F2} se");
        }

        output.WriteLine($"worst predicted-mean z = {worst:F2}");
    }

    [Theory]
    [InlineData(ParticleFilterAlgorithm.Bootstrap, 1.0)]
    [InlineData(ParticleFilterAlgorithm.Bootstrap, 0.5)]
    [InlineData(ParticleFilterAlgorithm.Auxiliary, 1.0)]
    public void Step_Ngm_LogMarginalLikelihoodWithinReferenceSpread(ParticleFilterAlgorithm algorithm, double threshold)
    {
        var runs = OracleCsv.Load("nonlinear", "ngm_pf_runs_loglik.csv")["loglik_hat"];
        var mean = runs.Average();
        var sd = Math.Sqrt(runs.Sum(v => (v - mean) * (v - mean)) / (runs.Length - 1));
        const double grid = -251.681148109621;
        var pf = new ParticleFilter(new NonstationaryGrowthModel(), new ParticleFilterOptions { ParticleCount = Particles, EssThreshold = threshold, Algorithm = algorithm });
        var total = FilterRun.Execute(pf, Data(), 21).TotalLogLikelihood;

        // The reference spread (sd 0.066 at 200k particles) scaled to N = 20,000 is about 0.21; allow 4 sd around the
        // exact grid value. The auxiliary filter's look-ahead makes its variance different, but of the same order.
        var tolerance = 4 * sd * Scale;
        output.WriteLine($"{algorithm} ess<{threshold}: loglik {total:F4} vs grid {grid:F4}, tolerance {tolerance:F3}");
        Assert.True(Math.Abs(total - grid) <= tolerance, $"loglik {total} vs grid {grid} (tol {tolerance:F3})");
    }

    [Fact]
    public void Step_NgmAuxiliary_FilteredMeansCloseToGrid()
    {
        var reference = OracleCsv.Load("nonlinear", "ngm_reference_posterior.csv");
        var pf = new ParticleFilter(new NonstationaryGrowthModel(), new ParticleFilterOptions { ParticleCount = Particles, Algorithm = ParticleFilterAlgorithm.Auxiliary });
        var run = FilterRun.Execute(pf, Data(), 5);
        var worst = 0.0;
        for (var t = 0; t < reference.RowCount; t++)
        {
            // The auxiliary filter has its own Monte-Carlo variance; hold it to 8 bootstrap sd (same order, no reference runs).
            var sd = reference["pf_filt_mean_sd_across_seeds"][t] * Scale;
            var z = Math.Abs(run.Means[t] - reference["grid_filt_mean"][t]) / sd;
            worst = Math.Max(worst, z);
            Assert.True(z <= 8.0, $"t={t + 1}: auxiliary PF mean off by {z:F2} sd");
        }

        output.WriteLine($"auxiliary worst = {worst:F2} sd");
    }
}
