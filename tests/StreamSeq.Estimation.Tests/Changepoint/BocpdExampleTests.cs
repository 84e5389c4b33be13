using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Changepoint;

public sealed class BocpdExampleTests
{
    [Fact]
    public void Example_BocpdLevels_FlagsTheLevelShifts()
    {
        var estimator = ModelCatalog.Build(ModelSpec.Load(ExampleFiles.PathOf("bocpd-levels.json")));
        var streams = ExampleFiles.Series("bocpd-levels.csv");
        var shifts = new Dictionary<string, int[]> { ["line-a"] = [61, 121, 171], ["line-b"] = [91, 151] };
        var estimate = new Estimate(estimator.Info);
        var cp = estimator.Info.ExtraOffset("changepointProbability");
        var map = estimator.Info.ExtraOffset("mapRunLength");
        foreach (var (name, series) in streams)
        {
            var state = new double[estimator.Info.StateLength];
            estimator.Initialize(state, 0);
            var mapDrops = new List<int>();
            var previous = 0.0;
            for (var t = 0; t < series.Length; t++)
            {
                estimator.Step(state, series.At(t), estimate, default);
                Assert.Equal(EstimateFlags.None, estimate.Flags);
                Assert.InRange(estimate.Extras[cp], 0.0, 1.0);
                if (estimate.Extras[map] < previous - 5)
                {
                    mapDrops.Add(t + 1);
                }

                previous = estimate.Extras[map];
            }

            // Every true shift is followed within a few steps by the MAP run length falling back.
            foreach (var shift in shifts[name])
            {
                Assert.Contains(mapDrops, d => d >= shift && d <= shift + 8);
            }
        }
    }
}
