using System.Globalization;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Particles;
using StreamSeq.Estimation.Specs;
using Xunit.Abstractions;

namespace StreamSeq.Estimation.Tests.Learning;

/// <summary>
/// Maximum likelihood through a particle filter: the per-sequence seed is fixed across evaluations (common random
/// numbers) and resampling happens at every step, so the simulated likelihood is a deterministic, piecewise
/// continuous function of the parameters that Nelder–Mead can maximise.
/// </summary>
public sealed class MaximumLikelihoodParticleTests(ITestOutputHelper output)
{
    [Fact]
    public void Fit_LinearObservationNoiseThroughParticleFilter_AgreesWithKalmanMle()
    {
        // Local level, transition variance 1, observation variance 4; 200 steps simulated with a fixed seed.
        var random = ParticleRandom.FromSeed(31);
        var y = new double[200];
        var level = 0.0;
        for (var t = 0; t < y.Length; t++)
        {
            level += random.NextGaussian();
            y[t] = level + (2.0 * random.NextGaussian());
        }

        var data = new[] { new ObservationSeries(1, y) };
        const string model = "\"transition\":[[1]],\"transitionNoise\":[[1]],\"observation\":[[1]],\"observationNoise\":[[1]],\"initialMean\":[0],\"initialCovariance\":[[1]]";
        var exact = MaximumLikelihood.Fit(ModelSpec.Parse("{\"name\":\"ll\",\"kind\":\"linear-gaussian\"," + model + "}"), data, ["observationNoise"]);
        var particle = MaximumLikelihood.Fit(
            ModelSpec.Parse("{\"name\":\"ll\",\"kind\":\"particle\",\"particles\":1000,\"essThreshold\":1,\"sortedResampling\":true,\"seed\":5,\"model\":{\"type\":\"linear\"," + model + "}}"),
            data,
            ["model.observationNoise"]);
        var exactValue = exact.Spec["observationNoise"]![0]![0]!.GetValue<double>();
        var particleValue = particle.Spec["model"]!["observationNoise"]![0]![0]!.GetValue<double>();
        output.WriteLine($"Kalman MLE {exactValue:F4} (loglik {exact.LogLikelihood:F3}); particle MLE {particleValue:F4} (loglik {particle.LogLikelihood:F3}, {particle.Iterations} iterations, converged {particle.Converged})");

        // The simulated log-likelihood (1,000 particles) carries Monte-Carlo noise of a few tenths of a nat that
        // varies slowly with R under common random numbers, so its maximiser sits near, not on, the exact one:
        // allow 15% of R.
        Assert.True(Math.Abs(particleValue - exactValue) <= 0.15 * exactValue, $"particle MLE {particleValue} vs Kalman MLE {exactValue}");
        Assert.True(particle.Converged);
        Assert.Equal("mle", particle.Method);
    }

    [Fact]
    public void Fit_StochasticVolatilityScaleOfInnovations_LandsNearTruth()
    {
        // h_t = 0.95 h_{t-1} + 0.25 η_t, y_t = 0.6 exp(h_t/2) ε_t, 1,000 steps from the stationary start.
        const double phi = 0.95, sigma = 0.25, beta = 0.6;
        var random = ParticleRandom.FromSeed(2718);
        var y = new double[1000];
        var h = sigma / Math.Sqrt(1 - (phi * phi)) * random.NextGaussian();
        for (var t = 0; t < y.Length; t++)
        {
            if (t > 0)
            {
                h = (phi * h) + (sigma * random.NextGaussian());
            }

            y[t] = beta * Math.Exp(h / 2) * random.NextGaussian();
        }

        var spec = ModelSpec.Parse(string.Create(CultureInfo.InvariantCulture, $$"""
            {"name":"sv","kind":"particle","particles":300,"essThreshold":1,"sortedResampling":true,"seed":11,
             "model":{"type":"stochastic-volatility","persistence":{{phi}},"volatility":0.5,"scale":{{beta}} } }
            """));
        var data = new[] { new ObservationSeries(1, y) };
        var startLogLik = LogLikelihood.Evaluate(ModelCatalog.Build(spec), data, 11);
        var fit = MaximumLikelihood.Fit(spec, data, ["model.volatility"]);
        var fitted = fit.Spec["model"]!["volatility"]!.GetValue<double>();
        output.WriteLine($"volatility: start 0.5 (loglik {startLogLik:F2}) -> {fitted:F4} (loglik {fit.LogLikelihood:F2}), truth {sigma}");

        // With T = 1,000 and φ = 0.95 the MLE of σ has a sampling sd of about 0.04; allow 2.5 of them.
        Assert.True(Math.Abs(fitted - sigma) <= 0.1, $"fitted volatility {fitted}");
        Assert.True(fit.LogLikelihood > startLogLik);
    }

    [Fact]
    public void Evaluate_ParticleSpec_SameSeedSameValue()
    {
        var pf = ModelCatalog.Build(ModelSpec.Parse("""{"name":"g","kind":"particle","particles":300,"model":{"type":"growth"}}"""));
        Assert.IsAssignableFrom<INonSmoothLikelihood>(pf);
        var data = new[] { Particles.ParticleFilterGrowthTests.Data() };
        Assert.Equal(LogLikelihood.Evaluate(pf, data, 3), LogLikelihood.Evaluate(pf, data, 3));
        Assert.NotEqual(LogLikelihood.Evaluate(pf, data, 3), LogLikelihood.Evaluate(pf, data, 4));
    }
}
