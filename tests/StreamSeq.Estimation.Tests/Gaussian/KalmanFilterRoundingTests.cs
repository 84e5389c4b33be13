using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Specs;
using StreamSeq.Estimation.Tests.Support;
using Xunit.Abstractions;

namespace StreamSeq.Estimation.Tests.Gaussian;

/// <summary>
/// How much the double-precision kernels lose on an ill-conditioned model, judged against the same filter in
/// 320-bit fixed point (<see cref="ExtendedPrecisionKalman"/>).
/// </summary>
public sealed class KalmanFilterRoundingTests(ITestOutputHelper output)
{
    /// <summary>
    /// EM's fit at the random problem (3, 3, 29, 347051) of the EM property test: transition with spectral radius above
    /// 1, and H with its second and third columns nearly proportional, so the direction H barely sees has predicted
    /// variance up to ~3e9 and gains near 1e4, while the variances the data resolve stay near 0.1–10.
    /// </summary>
    internal const string BarelySeenExplosive = """
        {"name":"em","kind":"linear-gaussian","transition":[[-1.1044263541559411,-1.5430517971674231,-1.5483593400404827],[-0.8298805258628479,0.5851111923618884,-0.6128649013900073],[1.3147831147948286,0.8608703586191268,2.053896348228659]],"transitionNoise":[[6.841864496992122,-0.8545657897004055,-6.135555421199461],[-0.8545657897004055,0.9060828367587628,0.4094455027994061],[-6.135555421199461,0.4094455027994061,10.028702715707663]],"observation":[[-0.24972013368998805,-0.9813708733094904,-1.0508120626822786],[0.299287569836573,1.1459787452374142,1.226625742723649],[0.14246603577336014,0.3666571954063626,0.38992054459721337]],"observationNoise":[[0.3828515315712663,-0.20378145757624366,-0.019044848228610925],[-0.20378145757624366,0.5891275704415789,-0.28976876061317536],[-0.019044848228610925,-0.28976876061317536,1.4640870118107554]],"initialMean":[-1.7628705664157005,-0.7874106420868453,0.7873107317145501],"initialCovariance":[[3.077340468220938,2.434104553807031,3.7581635794946338],[2.434104553807031,9.745974842908867,8.97992116937632],[3.7581635794946338,8.97992116937632,13.5372380438102]]}
        """;

    [Fact]
    public void LogLikelihood_VarianceNearThreeBillionTheDataBarelySee_FastAndGeneralKernelsMatchExtendedPrecision()
    {
        var model = LinearGaussianKind.BuildModel(ModelSpec.Parse(BarelySeenExplosive).Reader());
        var data = RandomEmProblem.Create(3, 3, 29, 347051).Data;
        var filter = new KalmanFilter(model);
        var reference = ExtendedPrecisionKalman.LogLikelihood(model, data);

        // The fast kernels run without a backward record (LogLikelihood.Evaluate); the general one with it (EM's E-step).
        var fast = LogLikelihood.Evaluate(filter, data);
        var general = 0.0;
        var largest = 0.0;
        var observedSteps = 0;
        var state = new double[filter.Info.StateLength];
        var estimate = new Estimate(filter.Info);
        var record = new double[filter.Info.BackwardRecordLength];
        foreach (var series in data)
        {
            filter.Initialize(state, 0);
            for (var t = 0; t < series.Length; t++)
            {
                filter.Step(state, series.At(t), estimate, record);
                Assert.Equal(EstimateFlags.None, estimate.Flags);
                largest = Math.Max(largest, KalmanFilter.LargestVariance(estimate.PredictedCovariance, 3));
                if (!double.IsNaN(estimate.LogLikelihood))
                {
                    general += estimate.LogLikelihood;
                    observedSteps++;
                }
            }
        }

        // The kernels round the largest predicted variance at ε · 3e9 ≈ 3e-7 per step; those errors reach the
        // log-likelihood through the cancellation in H P⁻ H' and add up like a random walk over the observed steps.
        // The Joseph assembly that fed its rounding back through a large A = I − K H missed by 3e-4 (fast kernel)
        // and 2e-5 (general kernel, which multiplied out A explicitly).
        Assert.True(largest > 1e9, $"the model should carry a variance above 1e9, not {largest:G3}");
        var tolerance = 1.1102230246251565e-16 * largest * Math.Sqrt(observedSteps);
        output.WriteLine($"reference {reference:R}; fast {fast - reference:G3}, general {general - reference:G3} off; tolerance {tolerance:G3} ({observedSteps} observed steps, largest predicted variance {largest:G3})");
        Expect.Close(reference, fast, 0, "fast kernels' log-likelihood", absTol: tolerance);
        Expect.Close(reference, general, 0, "general kernel's log-likelihood", absTol: tolerance);
    }
}
