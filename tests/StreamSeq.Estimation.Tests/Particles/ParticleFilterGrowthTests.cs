using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Particles;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Particles;

/// <summary>The nonstationary growth model against the grid filter and the 200,000-particle runs (oracles/nonlinear).</summary>
public sealed class ParticleFilterGrowthTests
{
    private const int ReferenceParticles = 200_000;

    internal static ObservationSeries Data()
    {
        var csv = OracleCsv.Load("nonlinear", "ngm_data.csv");
        return new ObservationSeries(1, csv["y"]);
    }

    [Fact]
    public void Step_Ngm20000Particles_FilteredMeansWithinMonteCarloErrorOfGrid()
    {
        const int particles = 20_000;
        var reference = OracleCsv.Load("nonlinear", "ngm_reference_posterior.csv");
        var pf = new ParticleFilter(new NonstationaryGrowthModel(), new ParticleFilterOptions { ParticleCount = particles, EssThreshold = 1.0 });
        var run = FilterRun.Execute(pf, Data(), seed: 7);
        var scale = Math.Sqrt((double)ReferenceParticles / particles);
        var worst = 0.0;
        for (var t = 0; t < reference.RowCount; t++)
        {
            var sd = reference["pf_filt_mean_sd_across_seeds"][t] * scale;
            var z = Math.Abs(run.Means[t] - reference["grid_filt_mean"][t]) / sd;
            worst = Math.Max(worst, z);
        }

        Assert.True(worst <= 5.0, $"worst |PF − grid| = {worst:F2} Monte-Carlo sd");
    }
}
