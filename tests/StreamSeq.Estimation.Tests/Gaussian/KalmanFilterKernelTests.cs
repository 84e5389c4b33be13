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
    public void Step_CompactKernel_EqualsGeneralPathForRandomModelsControlsAndMissingComponents() =>
        Gen.Select(Gen.Int[1, 6], Gen.Int[1, 4], Gen.Int[0, 2], Gen.Int[0, 1_000_000]).Sample((n, m, kind, seed) => CompareWithGeneralPath(n, m, kind, seed, partial: true), iter: 300);

    [Fact]
    public void Step_SmallVectorKernel_EqualsGeneralPathForTwoToFourStatesAndOneOrTwoObservations() =>
        Gen.Select(Gen.Int[2, 4], Gen.Int[1, 2], Gen.Int[0, 2], Gen.Int[0, 1_000_000]).Sample((n, m, kind, seed) => CompareWithGeneralPath(n, m, kind, seed, partial: false), iter: 300);

    [Fact]
    public void Step_TwoGapDiscretisedFiltersInterleavedOnOneThread_EachMatchesItsOwnRun()
    {
        KalmanFilter Filter(double noise) => new(new LinearGaussianModel(
            new ContinuousTimeDynamics([new ConstantVelocity(noise, 2)]), 2, [1, 0, 0, 0, 0, 1, 0, 0], [4.0, 1.0, 1.0, 2.25],
            [0, 0, 1, 0.5], [10, 0, 0, 0, 0, 10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]));
        var rng = new Random(5);
        var ys = Enumerable.Range(0, 200).Select(i => (0.1 * i) + rng.NextDouble()).ToArray();
        double[] Run(KalmanFilter a, KalmanFilter? b)
        {
            var sa = new double[a.Info.StateLength];
            var sb = new double[a.Info.StateLength];
            a.Initialize(sa, 0);
            b?.Initialize(sb, 0);
            var ea = new Estimate(a.Info);
            var eb = new Estimate(a.Info);
            for (var t = 0; t < 100; t++)
            {
                var gap = t % 7 == 6 ? 2.5 : 1.0;
                a.Step(sa, new Observation(ys.AsSpan(2 * t, 2), gap), ea, default);
                b?.Step(sb, new Observation(ys.AsSpan(2 * t, 2), gap), eb, default);
            }

            return sa;
        }

        var gentle = Filter(0.1);
        var hard = Filter(5.0);
        Assert.Equal(Run(Filter(0.1), null), Run(gentle, hard));
        Assert.Equal(Run(Filter(5.0), null), Run(hard, gentle));
    }

    /// <summary>Runs one random model (kind 0: explicit matrices with sparse F and H; 1: also a control input; 2: a
    /// gap-discretised sum of presets) through the fast kernels and through the record path, step by step.</summary>
    private static void CompareWithGeneralPath(int n, int m, int kind, int seed, bool partial)
    {
        var rng = new Random(seed);
        double Next() => (2 * rng.NextDouble()) - 1;
        double[] Covariance(int size, double scale)
        {
            var a = Enumerable.Range(0, size * size).Select(_ => Next()).ToArray();
            var p = new double[size * size];
            for (var i = 0; i < size; i++)
            {
                for (var j = 0; j < size; j++)
                {
                    var acc = i == j ? 0.1 : 0.0;
                    for (var k = 0; k < size; k++)
                    {
                        acc += a[(i * size) + k] * a[(j * size) + k];
                    }

                    p[(i * size) + j] = scale * acc;
                }
            }

            return p;
        }

        // Sparse loadings (zeros are skipped by the kernel) and, for kind 1, a control input; kind 2 is a
        // gap-discretised sum of presets.
        LinearGaussianModel model;
        var controls = kind == 1 ? 2 : 0;
        if (kind == 2)
        {
            ContinuousComponent[] components = n > 2 * m
                ? [new ConstantVelocity(0.3 + rng.NextDouble(), m), new LocalLevel(0.1 + rng.NextDouble(), m)]
                : [new ConstantVelocity(0.3 + rng.NextDouble(), m)];
            var dynamics = new ContinuousTimeDynamics(components);
            n = dynamics.StateDimension;
            var h = new double[m * n];
            dynamics.WriteObservation(h);
            model = new LinearGaussianModel(dynamics, m, h, Covariance(m, 1.0), Enumerable.Range(0, n).Select(_ => Next()).ToArray(), Covariance(n, 3.0));
        }
        else
        {
            var f = Enumerable.Range(0, n * n).Select(i => rng.Next(3) == 0 ? 0.0 : 0.6 * Next()).ToArray();
            var h = Enumerable.Range(0, m * n).Select(i => rng.Next(3) == 0 ? 0.0 : Next()).ToArray();
            model = new LinearGaussianModel(
                new MatrixDynamics(n, f, Covariance(n, 0.5), Enumerable.Range(0, n).Select(_ => Next()).ToArray()),
                m, h, Covariance(m, 1.0), Enumerable.Range(0, n).Select(_ => Next()).ToArray(), Covariance(n, 2.0),
                observationOffset: Enumerable.Range(0, m).Select(_ => Next()).ToArray(),
                control: Enumerable.Range(0, n * controls).Select(_ => Next()).ToArray(), controlDimension: controls);
        }

        var kf = new KalmanFilter(model);
        var fast = new double[kf.Info.StateLength];
        var general = new double[kf.Info.StateLength];
        kf.Initialize(fast, 0);
        kf.Initialize(general, 0);
        var ef = new Estimate(kf.Info);
        var eg = new Estimate(kf.Info);
        var record = new double[kf.Info.BackwardRecordLength];
        for (var t = 0; t < 40; t++)
        {
            var whollyMissing = rng.Next(8) == 0;
            var y = Enumerable.Range(0, m).Select(_ => whollyMissing || (partial && rng.Next(5) == 0) ? double.NaN : 3 * Next()).ToArray();
            var u = Enumerable.Range(0, controls).Select(_ => rng.Next(6) == 0 ? double.NaN : Next()).ToArray();
            // Repeated gaps reuse the per-thread discretisation of the small kernel; others replace it.
            var gap = rng.Next(3) switch { 0 => 1.0, 1 => 0.5, _ => 0.1 + (2 * rng.NextDouble()) };
            kf.Step(fast, new Observation(y, gap, t, u), ef, default);
            kf.Step(general, new Observation(y, gap, t, u), eg, record);
            var at = $"n={n} m={m} kind={kind} seed={seed} t={t}";
            Expect.Close(eg.PredictedMean, ef.PredictedMean, 1e-10, $"{at} pred mean", 1e-10);
            Expect.Close(eg.PredictedCovariance, ef.PredictedCovariance, 1e-10, $"{at} pred cov", 1e-10);
            Expect.Close(eg.ObservationMean, ef.ObservationMean, 1e-10, $"{at} obs mean", 1e-10);
            Expect.Close(eg.ObservationCovariance, ef.ObservationCovariance, 1e-10, $"{at} obs cov", 1e-10);
            Expect.Close(eg.StateMean, ef.StateMean, 1e-10, $"{at} mean", 1e-9);
            Expect.Close(eg.StateCovariance, ef.StateCovariance, 1e-10, $"{at} cov", 1e-10);
            Expect.Close(eg.LogLikelihood, ef.LogLikelihood, 1e-10, $"{at} loglik");
            Expect.Close(eg.NormalizedInnovationSquared, ef.NormalizedInnovationSquared, 1e-10, $"{at} nis");
            Assert.Equal(eg.ObservedCount, ef.ObservedCount);
            Assert.Equal(eg.Flags, ef.Flags);
            Assert.Equal(general, fast, (a, b) => Math.Abs(a - b) <= 1e-9 * Math.Max(1.0, Math.Abs(a)));
        }
    }

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
