using StreamSeq.Estimation.Particles;

namespace StreamSeq.Estimation.Tests.Particles;

/// <summary>
/// Offspring counts N_i of each scheme against their exact distributions: E[N_i] = N w_i for all, and
/// Var[N_i] = N w_i (1 − w_i) (multinomial), R r_i (1 − r_i) with r_i the normalised residuals (residual),
/// Σ_k p_ik (1 − p_ik) with p_ik the overlap of particle i's cumulative interval with stratum k (stratified),
/// and f_i (1 − f_i) with f_i the fractional part of N w_i (systematic).
/// </summary>
public sealed class ResamplerTests
{
    private const int Particles = 20;
    private const int Replications = 20_000;

    public static TheoryData<ResamplingScheme> Schemes =>
        [ResamplingScheme.Multinomial, ResamplingScheme.Stratified, ResamplingScheme.Systematic, ResamplingScheme.Residual];

    [Theory]
    [MemberData(nameof(Schemes))]
    public void Resample_RandomWeights_OffspringCountsUnbiasedWithTheoreticalVariance(ResamplingScheme scheme)
    {
        var weights = Weights();
        var (mean, variance) = Simulate(scheme, weights, 11);
        var theory = TheoreticalVariance(scheme, weights);
        for (var i = 0; i < Particles; i++)
        {
            // 5 standard errors of a mean of 20,000 counts (a 1e-6 false alarm rate per particle); zero-variance
            // counts must be exact.
            var tolerance = (5 * Math.Sqrt(theory[i] / Replications)) + 1e-12;
            Assert.True(Math.Abs(mean[i] - (Particles * weights[i])) <= tolerance, $"{scheme} particle {i}: mean count {mean[i]} vs N w = {Particles * weights[i]} (tol {tolerance:G3})");
        }

        // The summed variance of 20,000 replications has a relative standard error of about 1%; allow 6%.
        var empirical = variance.Sum();
        var expected = theory.Sum();
        Assert.True(Math.Abs(empirical - expected) <= 0.06 * expected, $"{scheme}: total count variance {empirical} vs theory {expected}");
    }

    [Fact]
    public void Resample_RandomWeights_VarianceOrderingHolds()
    {
        var weights = Weights();
        var total = new Dictionary<ResamplingScheme, double>();
        foreach (var scheme in Schemes)
        {
            total[scheme] = Simulate(scheme, weights, 5).Variance.Sum();
        }

        Assert.True(total[ResamplingScheme.Systematic] < total[ResamplingScheme.Stratified], "systematic < stratified");
        Assert.True(total[ResamplingScheme.Stratified] < total[ResamplingScheme.Multinomial], "stratified < multinomial");
        Assert.True(total[ResamplingScheme.Systematic] < total[ResamplingScheme.Residual], "systematic < residual");
        Assert.True(total[ResamplingScheme.Residual] < total[ResamplingScheme.Multinomial], "residual < multinomial");
    }

    [Theory]
    [MemberData(nameof(Schemes))]
    public void Resample_ZeroWeights_NeverSelected(ResamplingScheme scheme)
    {
        double[] weights = [0, 0.3, 0, 0, 0.7, 0];
        var ancestors = new int[6];
        var random = ParticleRandom.FromSeed(3);
        for (var r = 0; r < 1000; r++)
        {
            Resampler.Resample(scheme, weights, ancestors, ref random);
            Assert.All(ancestors, a => Assert.True(a is 1 or 4, $"{scheme} picked {a}"));
        }
    }

    private static double[] Weights()
    {
        var random = ParticleRandom.FromSeed(99);
        var w = new double[Particles];
        for (var i = 0; i < Particles; i++)
        {
            var e = -Math.Log(random.NextOpenDouble());
            w[i] = e * e;
        }

        var s = w.Sum();
        return [.. w.Select(v => v / s)];
    }

    private static (double[] Mean, double[] Variance) Simulate(ResamplingScheme scheme, double[] weights, ulong seed)
    {
        var random = ParticleRandom.FromSeed(seed);
        var ancestors = new int[Particles];
        var counts = new int[Particles];
        var sum = new double[Particles];
        var sum2 = new double[Particles];
        for (var r = 0; r < Replications; r++)
        {
            Resampler.Resample(scheme, weights, ancestors, ref random);
            Array.Clear(counts);
            foreach (var a in ancestors)
            {
                counts[a]++;
            }

            for (var i = 0; i < Particles; i++)
            {
                sum[i] += counts[i];
                sum2[i] += (double)counts[i] * counts[i];
            }
        }

        var mean = sum.Select(s => s / Replications).ToArray();
        var variance = new double[Particles];
        for (var i = 0; i < Particles; i++)
        {
            variance[i] = (sum2[i] / Replications) - (mean[i] * mean[i]);
        }

        return (mean, variance);
    }

    private static double[] TheoreticalVariance(ResamplingScheme scheme, double[] weights)
    {
        var n = weights.Length;
        var v = new double[n];
        var expected = weights.Select(w => n * w).ToArray();
        switch (scheme)
        {
            case ResamplingScheme.Multinomial:
                for (var i = 0; i < n; i++)
                {
                    v[i] = n * weights[i] * (1 - weights[i]);
                }

                break;
            case ResamplingScheme.Systematic:
                for (var i = 0; i < n; i++)
                {
                    var f = expected[i] - Math.Floor(expected[i]);
                    v[i] = f * (1 - f);
                }

                break;
            case ResamplingScheme.Residual:
                var residuals = expected.Select(e => e - Math.Floor(e)).ToArray();
                var r = residuals.Sum();
                for (var i = 0; i < n; i++)
                {
                    var p = residuals[i] / r;
                    v[i] = r * p * (1 - p);
                }

                break;
            default:
                var lower = 0.0;
                for (var i = 0; i < n; i++)
                {
                    var upper = lower + expected[i];
                    for (var k = (int)Math.Floor(lower); k < n && k < upper; k++)
                    {
                        var p = Math.Max(0, Math.Min(upper, k + 1) - Math.Max(lower, k));
                        v[i] += p * (1 - p);
                    }

                    lower = upper;
                }

                break;
        }

        return v;
    }
}
