using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Discrete;

public sealed class HmmExampleTests
{
    [Fact]
    public void Example_HmmRegimes_RunsEveryStreamAndFitsByEm()
    {
        var spec = ModelSpec.Load(ExampleFiles.PathOf("hmm-regimes.json"));
        var estimator = ModelCatalog.Build(spec);
        var streams = ExampleFiles.Series("hmm-regimes.csv");
        Assert.Equal(["pump-1", "pump-2"], streams.Keys.Order());
        var estimate = new Estimate(estimator.Info);
        foreach (var series in streams.Values)
        {
            var state = new double[estimator.Info.StateLength];
            estimator.Initialize(state, 0);
            var missing = 0;
            for (var t = 0; t < series.Length; t++)
            {
                estimator.Step(state, series.At(t), estimate, default);
                Assert.Equal(EstimateFlags.None, estimate.Flags & ~EstimateFlags.ObservationSkipped);
                missing += double.IsNaN(estimate.LogLikelihood) ? 1 : 0;
            }

            Assert.InRange(missing, 1, 10);
        }

        var fit = new HmmKind().FitEm(spec, [.. streams.Values], ["transition", "emission"], new FitOptions { MaxIterations = 200 });
        Assert.True(fit.LogLikelihood >= LogLikelihood.Evaluate(estimator, [.. streams.Values]) - 1e-9);
    }
}
