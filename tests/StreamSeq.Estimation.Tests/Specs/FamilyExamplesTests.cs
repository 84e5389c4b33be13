using System.Globalization;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Tests.Specs;

/// <summary>The example specs and data shipped in examples/ for the particle and IMM families build and run.</summary>
public sealed class FamilyExamplesTests
{
    [Theory]
    [InlineData("particle-growth", "particle")]
    [InlineData("imm-manoeuvre", "imm")]
    public void Example_BuildsAndFiltersItsData(string name, string family)
    {
        var folder = ExamplesFolder();
        var estimator = ModelCatalog.Build(ModelSpec.Load(Path.Combine(folder, $"{name}.json")));
        Assert.Equal(family, estimator.Info.Family);
        var lines = File.ReadAllLines(Path.Combine(folder, $"{name}.csv"));
        Assert.StartsWith("stream,time,", lines[0], StringComparison.Ordinal);
        var state = new double[estimator.Info.StateLength];
        estimator.Initialize(state, 1);
        var estimate = new Estimate(estimator.Info);
        foreach (var line in lines.Skip(1))
        {
            var values = line.Split(',').Skip(2).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(estimator.Info.ObservationDimension, values.Length);
            estimator.Step(state, new Observation(values), estimate, default);
            Assert.True(double.IsFinite(estimate.LogLikelihood));
            Assert.Equal(EstimateFlags.None, estimate.Flags & EstimateFlags.Reinitialized);
        }
    }

    [Fact]
    public void ImmManoeuvreExample_ManoeuvreModeDominatesDuringTheTurn()
    {
        var folder = ExamplesFolder();
        var imm = ModelCatalog.Build(ModelSpec.Load(Path.Combine(folder, "imm-manoeuvre.json")));
        var lines = File.ReadAllLines(Path.Combine(folder, "imm-manoeuvre.csv")).Skip(1).ToArray();
        var state = new double[imm.Info.StateLength];
        imm.Initialize(state, 0);
        var estimate = new Estimate(imm.Info);
        var inTurn = new List<double>();
        var cruising = new List<double>();
        for (var t = 0; t < lines.Length; t++)
        {
            var values = lines[t].Split(',').Skip(2).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            imm.Step(state, new Observation(values), estimate, default);
            (t + 1 is >= 41 and <= 51 ? inTurn : t + 1 >= 65 ? cruising : []).Add(estimate.Extras[1]);
        }

        // The data turn 15 degrees a step for t = 40..51 and cruise otherwise.
        Assert.True(inTurn.Average() > 0.5, $"mean manoeuvre probability in the turn {inTurn.Average():F3}");
        Assert.True(cruising.Average() < 0.2, $"mean manoeuvre probability when cruising {cruising.Average():F3}");
    }

    private static string ExamplesFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "examples");
            if (File.Exists(Path.Combine(candidate, "particle-growth.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("examples/ not found above the test output folder.");
    }
}
