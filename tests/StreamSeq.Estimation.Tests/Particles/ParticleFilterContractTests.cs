using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Particles;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Particles;

/// <summary>The step contract: restorable state, extras, degeneracy handling and spec validation.</summary>
public sealed class ParticleFilterContractTests
{
    public static TheoryData<ParticleFilterAlgorithm, ResamplingScheme> Variants => new()
    {
        { ParticleFilterAlgorithm.Bootstrap, ResamplingScheme.Systematic },
        { ParticleFilterAlgorithm.Bootstrap, ResamplingScheme.Multinomial },
        { ParticleFilterAlgorithm.Auxiliary, ResamplingScheme.Residual },
        { ParticleFilterAlgorithm.Guided, ResamplingScheme.Stratified },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void Step_StateCopiedMidStream_ContinuesBitIdentically(ParticleFilterAlgorithm algorithm, ResamplingScheme scheme)
    {
        var pf = new ParticleFilter(new LinearGaussianParticleModel(Cv2d.Model()), new ParticleFilterOptions { ParticleCount = 500, Algorithm = algorithm, Resampling = scheme });
        var smoother = new FixedLagSmoother(pf, 3);
        var data = ParticleFilterLinearTests.Data(60);
        var a = new double[smoother.Info.StateLength];
        smoother.Initialize(a, 12345);
        var ea = new Estimate(smoother.Info);
        var eb = new Estimate(smoother.Info);
        for (var t = 0; t < 30; t++)
        {
            smoother.Step(a, data.At(t), ea, default);
        }

        var b = (double[])a.Clone();
        for (var t = 30; t < 60; t++)
        {
            smoother.Step(a, data.At(t), ea, default);
            smoother.Step(b, data.At(t), eb, default);
            AssertBitEqual(ea.StateMean, eb.StateMean);
            AssertBitEqual(ea.StateCovariance, eb.StateCovariance);
            AssertBitEqual(ea.SmoothedMean, eb.SmoothedMean);
            AssertBitEqual(ea.Extras, eb.Extras);
            Assert.Equal(BitConverter.DoubleToInt64Bits(ea.LogLikelihood), BitConverter.DoubleToInt64Bits(eb.LogLikelihood));
        }

        AssertBitEqual(a, b);
    }

    [Fact]
    public void Step_SameSeed_Reproducible_DifferentSeed_Differs()
    {
        var pf = new ParticleFilter(new NonstationaryGrowthModel(), new ParticleFilterOptions { ParticleCount = 200 });
        var data = ParticleFilterGrowthTests.Data();
        var r1 = FilterRun.Execute(pf, data, 1);
        var r2 = FilterRun.Execute(pf, data, 1);
        var r3 = FilterRun.Execute(pf, data, 2);
        Assert.Equal(r1.Means, r2.Means);
        Assert.NotEqual(r1.Means, r3.Means);
    }

    [Fact]
    public void Step_Extras_ReportEssAndResampling()
    {
        var pf = new ParticleFilter(new NonstationaryGrowthModel(), new ParticleFilterOptions { ParticleCount = 500, EssThreshold = 0.5 });
        Assert.Equal(["ess", "resampled"], pf.Info.Extras.Select(e => e.Name));
        var run = FilterRun.Execute(pf, ParticleFilterGrowthTests.Data(), 4);
        var resampledSteps = 0;
        for (var t = 0; t < run.LogLikelihoods.Length; t++)
        {
            var ess = run.Extras[2 * t];
            var resampled = run.Extras[(2 * t) + 1];
            Assert.InRange(ess, 1.0, 500.0);
            Assert.True(resampled is 0.0 or 1.0);
            Assert.Equal(resampled == 1.0, (run.Flags[t] & EstimateFlags.Resampled) != 0);
            if (t > 0)
            {
                // Resampling happens exactly when the previous step's ESS fell below half the particles.
                Assert.Equal(run.Extras[2 * (t - 1)] < 250.0, resampled == 1.0);
            }

            resampledSteps += (int)resampled;
        }

        Assert.InRange(resampledSteps, 1, run.LogLikelihoods.Length - 2);
    }

    [Theory]
    [InlineData(1000.0)]
    [InlineData(-1000.0)]
    public void Step_ImpossibleObservation_ReinitialisesWithoutNaN(double impossible)
    {
        var pf = new ParticleFilter(new ImpossibleObservationModel(), new ParticleFilterOptions { ParticleCount = 200 });
        double[] ys = [0.1, 0.3, impossible, 0.2, 0.4];
        var state = new double[pf.Info.StateLength];
        pf.Initialize(state, 9);
        var e = new Estimate(pf.Info);
        for (var t = 0; t < ys.Length; t++)
        {
            pf.Step(state, new Observation([ys[t]]), e, default);
            Assert.All(e.StateMean.Concat(e.StateCovariance).Concat(e.PredictedMean).Concat(e.ObservationMean).Concat(e.ObservationCovariance).Concat(e.Extras), v => Assert.True(double.IsFinite(v)));
            Assert.Equal(t == 2, (e.Flags & EstimateFlags.Reinitialized) != 0);
            if (t == 2)
            {
                // The fresh prior population cannot explain y either: the observation is skipped.
                Assert.True((e.Flags & EstimateFlags.ObservationSkipped) != 0);
                Assert.Equal(200.0, e.Extras[0]);
                if (impossible > 0)
                {
                    // Density 0 under every particle: the estimate of p(y_t | y_1:t-1) is 0, scored as the Kalman
                    // filters score a reading they cannot use (log-likelihood -infinity, NIS +infinity, observed), so
                    // anomaly rules fire on it. NaN, as before, fired none.
                    Assert.Equal(double.NegativeInfinity, e.LogLikelihood);
                    Assert.Equal(double.PositiveInfinity, e.NormalizedInnovationSquared);
                    Assert.Equal(1, e.ObservedCount);
                }
                else
                {
                    // A density that is not a number says nothing of the reading: not scored.
                    Assert.True(double.IsNaN(e.LogLikelihood));
                    Assert.True(double.IsNaN(e.NormalizedInnovationSquared));
                }
            }
            else
            {
                Assert.True(double.IsFinite(e.LogLikelihood));
            }
        }

        // After the restart the filter tracks again (prior N(0,1) plus two steps of unit noise).
        Assert.InRange(e.StateMean[0], -2.0, 2.0);
    }

    [Fact]
    public void Step_WhollyMissingObservation_PredictsOnly()
    {
        var pf = new ParticleFilter(new NonstationaryGrowthModel(), new ParticleFilterOptions { ParticleCount = 1000 });
        var state = new double[pf.Info.StateLength];
        pf.Initialize(state, 2);
        var e = new Estimate(pf.Info);
        pf.Step(state, new Observation([1.0]), e, default);
        pf.Step(state, new Observation([double.NaN]), e, default);
        Assert.True(double.IsNaN(e.LogLikelihood));
        Assert.True(double.IsNaN(e.NormalizedInnovationSquared));
        Assert.Equal(0, e.ObservedCount);
        Assert.Equal(e.PredictedMean, e.StateMean);
        Assert.Equal(e.PredictedCovariance, e.StateCovariance);
    }

    [Theory]
    [InlineData("\"particles\":1000", "\"particles\":0", "particles", "at least 2")]
    [InlineData("\"essThreshold\":0.5", "\"essThreshold\":0", "essThreshold", "(0, 1]")]
    [InlineData("\"essThreshold\":0.5", "\"essThreshold\":1.5", "essThreshold", "(0, 1]")]
    [InlineData("\"resampling\":\"systematic\"", "\"resampling\":\"sorted\"", "resampling", "unknown scheme")]
    [InlineData("\"filter\":\"bootstrap\"", "\"filter\":\"guided\"", "filter", "proposal")]
    [InlineData("\"filter\":\"bootstrap\"", "\"filter\":\"smc2\"", "filter", "unknown filter")]
    [InlineData("\"type\":\"growth\"", "\"type\":\"growht\"", "model.type", "unknown particle model")]
    [InlineData("\"observationNoise\":1", "\"observationNoise\":-1", "model.observationNoise", "positive")]
    [InlineData("\"transitionNoise\":10", "\"transitionNoise\":0", "model.transitionNoise", "positive")]
    [InlineData("\"observationNoise\":1", "\"observationNoise\":1,\"obsNoise\":2", "model.obsNoise", "not a known field")]
    [InlineData("\"filter\":\"bootstrap\"", "\"filter\":\"bootstrap\",\"intervalSmoothing\":\"exact\"", "intervalSmoothing", "unknown smoothing")]
    public void Build_MalformedParticleSpec_NamesTheField(string from, string to, string field, string problem)
    {
        const string spec = """
            {"name":"ngm","kind":"particle","particles":1000,"resampling":"systematic","essThreshold":0.5,"filter":"bootstrap",
             "model":{"type":"growth","transitionNoise":10,"observationNoise":1}}
            """;
        Assert.IsType<ParticleFilter>(ModelCatalog.Build(ModelSpec.Parse(spec)));
        var json = spec.Replace(from, to, StringComparison.Ordinal);
        Assert.NotEqual(spec, json);
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));
        Assert.Equal(field, e.Field);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(20_001)]
    [InlineData(10_000_000)]
    public void Build_MarginalSmoothingWithMoreParticlesThanItCanPassInAReasonableTime_NamesTheField(int particles)
    {
        // At N = 10^7 one backward step would take 10^14 transition densities: days for a single reading.
        var json = $$$"""{"name":"x","kind":"particle","particles":{{{particles}}},"intervalSmoothing":"marginal","model":{"type":"growth"}}""";

        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));

        Assert.Equal("intervalSmoothing", e.Field);
        Assert.Contains("at most 20,000 particles", e.Problem, StringComparison.Ordinal);
        Assert.IsType<ParticleFilter>(ModelCatalog.Build(ModelSpec.Parse(json.Replace("marginal", "auto", StringComparison.Ordinal))));
    }

    [Theory]
    [InlineData("", 1000, true)]
    [InlineData(",\"intervalSmoothing\":\"auto\"", 5000, true)]
    [InlineData(",\"intervalSmoothing\":\"auto\"", 5001, false)]
    [InlineData(",\"intervalSmoothing\":\"marginal\"", 5001, true)]
    [InlineData(",\"intervalSmoothing\":\"marginal\"", 20000, true)]
    [InlineData(",\"intervalSmoothing\":\"ancestors\"", 1000, false)]
    public void Build_IntervalSmoothing_ChoosesMarginalWeightsUpToTheLimit(string field, int particles, bool marginal)
    {
        var json = $$$"""{"name":"x","kind":"particle","particles":{{{particles}}}{{{field}}},"model":{"type":"growth"}}""";
        var pf = Assert.IsType<ParticleFilter>(ModelCatalog.Build(ModelSpec.Parse(json)));
        Assert.Equal(marginal, pf.SmoothsByMarginalWeights);
    }

    [Theory]
    [InlineData("""{"type":"stochastic-volatility","persistence":1.2,"volatility":0.2}""", "model.persistence")]
    [InlineData("""{"type":"stochastic-volatility","persistence":0.9,"volatility":-0.2}""", "model.volatility")]
    [InlineData("""{"type":"pendulum","observationNoise":0}""", "model.observationNoise")]
    [InlineData("""{"type":"pendulum","initialCovariance":[[1,2],[2,1]]}""", "model.initialCovariance")]
    [InlineData("""{"type":"linear","transition":[[1]],"transitionNoise":[[-1]],"observation":[[1]],"observationNoise":[[1]],"initialMean":[0],"initialCovariance":[[1]]}""", "model.transitionNoise")]
    [InlineData("""{"type":"linear","transition":[[1]],"transitionNoise":[[1]],"observation":[[1]],"observationNoise":[[0]],"initialMean":[0],"initialCovariance":[[1]]}""", "model.observationNoise")]
    [InlineData("""{"type":"linear","transition":[[1]],"transitionNoise":[[1]],"observation":[[1]],"observationNoise":[[1]],"initialization":"diffuse"}""", "model.initialization")]
    public void Build_BadModelParameters_NameTheModelField(string model, string field)
    {
        var json = $$"""{"name":"x","kind":"particle","model":{{model}}}""";
        var e = Assert.Throws<ModelValidationException>(() => ModelCatalog.Build(ModelSpec.Parse(json)));
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void Build_EveryModelType_BuildsWithDimensions()
    {
        (string Model, int N, bool Guided)[] cases =
        [
            ("""{"type":"growth"}""", 1, false),
            ("""{"type":"pendulum"}""", 2, false),
            ("""{"type":"stochastic-volatility","persistence":0.95,"volatility":0.25,"scale":0.6}""", 1, false),
            ("""{"type":"linear","transition":[[1,1],[0,1]],"transitionNoise":[[0.3333,0.5],[0.5,1]],"observation":[[1,0]],"observationNoise":[[1]],"initialMean":[0,0],"initialCovariance":[[10,0],[0,10]]}""", 2, true),
        ];
        foreach (var (model, n, guided) in cases)
        {
            var json = $$"""{"name":"x","kind":"particle","particles":50,"filter":"{{(guided ? "guided" : "auxiliary")}}","model":{{model}}}""";
            var pf = Assert.IsType<ParticleFilter>(ModelCatalog.Build(ModelSpec.Parse(json)));
            Assert.Equal(n, pf.Info.StateDimension);
            Assert.Equal("particle", pf.Info.Family);
            Assert.True(pf.Info.CanSmooth);
        }
    }

    private static void AssertBitEqual(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        Assert.Equal(a.Length, b.Length);
        for (var i = 0; i < a.Length; i++)
        {
            Assert.True(BitConverter.DoubleToInt64Bits(a[i]) == BitConverter.DoubleToInt64Bits(b[i]), $"index {i}: {a[i]:R} vs {b[i]:R}");
        }
    }
}
