using StreamSeq.Processing.Records;
using StreamSeq.Processing.Tests.Views;

namespace StreamSeq.Processing.Tests.Anomaly;

/// <summary>
/// A chi-square rule on a step inside an exact diffuse start: a value that determines a state direction contributes
/// no innovation to the NIS, so the NIS has fewer degrees of freedom than values observed.
/// </summary>
public sealed class DiffuseChiSquareTests
{
    // x = (a, b), both diffuse; y1 = a + e1, y2 = a + b + e2, R = I, Q = 0.1 I.
    private const string Spec = """
        {"name":"two","kind":"linear-gaussian","transition":[[1,0],[0,1]],"transitionNoise":[[0.1,0],[0,0.1]],
         "observation":[[1,0],[1,1]],"observationNoise":[[1,0],[0,1]],"initialization":"diffuse",
         "anomalyRules":[{"name":"surprise","type":"chi-square","threshold":0.001,"clearThreshold":0.2}]}
        """;

    [Fact]
    public void ChiSquare_StepThatEndsTheDiffuseStart_ScoresTheNisWithOneDegreeOfFreedom()
    {
        // Step 1 reads y1 = 0 only: a is determined (a | y1 ~ N(0, 1)), b stays diffuse. Step 2 reads both: y1 is an
        // ordinary value with F = 1 + 0.1 + 1 = 2.1 and v = 5.02, so NIS = 5.02²/2.1 ≈ 12.0 on one degree of freedom
        // (tail 5.3e-4, beyond the rule's 1e-3), while y2 determines b and adds nothing to it. Read as two degrees of
        // freedom the tail would be e^(−6) ≈ 2.5e-3 and the reading would pass.
        var binding = ViewRuns.Binding(Spec);
        var sink = ViewRuns.Run(binding, [(1.0, [0.0, double.NaN]), (2.0, [5.02, 3.0])]);
        var second = sink.Of(OutputKind.Filtered).Single(r => r.GetProperty("time").GetDouble() == 2.0);
        var nis = second.GetProperty("nis").GetDouble();
        Assert.Equal(5.02 * 5.02 / 2.1, nis, 1e-12);

        var anomaly = Assert.Single(sink.Of(OutputKind.Anomaly));
        Assert.Equal(2.0, anomaly.GetProperty("time").GetDouble());
        var expected = -Math.Log10(MathNet.Numerics.SpecialFunctions.Erfc(Math.Sqrt(nis / 2)));
        Assert.Equal(expected, anomaly.GetProperty("score").GetDouble(), 1e-9);
    }
}
