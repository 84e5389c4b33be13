using CsCheck;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Gaussian.ContinuousTime;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Gaussian;

/// <summary>
/// The unrolled small-model kernels must agree with the general matrix path (which runs whenever a backward record
/// is requested) on random models, gaps and missing values.
/// </summary>
public sealed class KalmanFilterKernelTests
{
    private static void AssertKernelsAgree(KalmanFilter kf, IReadOnlyList<(double Y, double Gap)> data)
    {
        var fast = new double[kf.Info.StateLength];
        var general = new double[kf.Info.StateLength];
        kf.Initialize(fast, 0);
        kf.Initialize(general, 0);
        var ef = new Estimate(kf.Info);
        var eg = new Estimate(kf.Info);
        var record = new double[kf.Info.BackwardRecordLength];
        for (var t = 0; t < data.Count; t++)
        {
            double[] y = [data[t].Y];
            kf.Step(fast, new Observation(y, data[t].Gap), ef, default);
            kf.Step(general, new Observation(y, data[t].Gap), eg, record);
            Expect.Close(eg.PredictedCovariance, ef.PredictedCovariance, 1e-10, $"t={t} pred cov");
            Expect.Close(eg.StateMean, ef.StateMean, 1e-10, $"t={t} mean", 1e-9);
            Expect.Close(eg.StateCovariance, ef.StateCovariance, 1e-10, $"t={t} cov", 1e-12);
            Expect.Close(eg.LogLikelihood, ef.LogLikelihood, 1e-10, $"t={t} loglik");
            Assert.Equal(eg.ObservedCount, ef.ObservedCount);
        }
    }

    private static readonly Gen<List<(double, double)>> Data =
        Gen.Select(Gen.Double[-50, 50], Gen.Double[0.1, 5], Gen.Int[0, 9])
            .Select((y, gap, missing) => (missing == 0 ? double.NaN : y, gap))
            .List[1, 60];

    [Fact]
    public void Step_ScalarKernel_EqualsGeneralPath()
    {
        Gen.Select(Gen.Double[0.01, 10], Gen.Double[0.01, 10], Gen.Double[-1.2, 1.2], Data).Sample((q, r, f, data) =>
        {
            var kf = new KalmanFilter(new LinearGaussianModel(new MatrixDynamics(1, [f], [q]), 1, [1.5], [r], [0.3], [2.0]));
            AssertKernelsAgree(kf, data);
        }, iter: 200);
    }

    [Fact]
    public void Step_TwoStateKernel_EqualsGeneralPathForExplicitAndGapDiscretisedModels()
    {
        Gen.Select(Gen.Double[0.001, 5], Gen.Double[0.001, 5], Gen.Double[0.01, 10], Data).Sample((ql, qs, r, data) =>
        {
            var explicitModel = new LinearGaussianModel(new MatrixDynamics(2, [1, 1, 0, 1], [ql, 0.1 * Math.Sqrt(ql * qs), 0.1 * Math.Sqrt(ql * qs), qs]), 1, [1.0, 0.0], [r], [1.0, -1.0], [4.0, 0.5, 0.5, 1.0]);
            AssertKernelsAgree(new KalmanFilter(explicitModel), data);
            var preset = new LinearGaussianModel(new ContinuousTimeDynamics([new LocalLinearTrend(ql, qs)]), 1, [1.0, 0.0], [r], [1.0, -1.0], [4.0, 0.5, 0.5, 1.0]);
            AssertKernelsAgree(new KalmanFilter(preset), data);
        }, iter: 200);
    }
}
