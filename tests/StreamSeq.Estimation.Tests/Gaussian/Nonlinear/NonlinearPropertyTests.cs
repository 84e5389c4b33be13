using CsCheck;
using MathNet.Numerics.LinearAlgebra;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Gaussian.Nonlinear;
using StreamSeq.Estimation.Smoothing;

namespace StreamSeq.Estimation.Tests.Gaussian.Nonlinear;

/// <summary>Properties of the Gaussian filters on random small models and data.</summary>
public sealed class NonlinearPropertyTests
{
    private const int Steps = 40;

    [Fact]
    public void Step_RandomLinearGaussianModels_KeepEveryCovarianceSymmetricPositiveSemiDefinite()
    {
        Gen.Select(Gen.Int[1, 4], Gen.Int[1, 3], Gen.Int[0, int.MaxValue], Gen.Int[0, 3])
            .Sample((n, m, seed, missingEvery) =>
            {
                var rng = new Random(seed);
                var linear = RandomModel(rng, n, m);
                var data = RandomData(rng, m, missingEvery);
                foreach (var estimator in Estimators(linear))
                {
                    var state = new double[estimator.Info.StateLength];
                    estimator.Initialize(state, 0);
                    var est = new Estimate(estimator.Info);
                    for (var t = 0; t < Steps; t++)
                    {
                        estimator.Step(state, new Observation(data.AsSpan(t * m, m)), est, default);
                        var what = $"{estimator.Info.Family} n={n} m={m} seed={seed} t={t + 1}";
                        Assert.True((est.Flags & EstimateFlags.Reinitialized) == 0, $"{what}: re-initialised");
                        AssertCovariance(est.PredictedCovariance, n, $"{what} predicted");
                        AssertCovariance(est.ObservationCovariance, m, $"{what} observation");
                        AssertCovariance(est.StateCovariance, n, $"{what} filtered");
                        Assert.All(est.StateMean, v => Assert.True(double.IsFinite(v), $"{what}: mean {v}"));
                    }
                }
            }, iter: 150);
    }

    [Fact]
    public void Step_StateCopiedMidStream_ContinuesBitIdentically()
    {
        Gen.Select(Gen.Int[1, 3], Gen.Int[1, 2], Gen.Int[0, int.MaxValue], Gen.Int[1, Steps - 1])
            .Sample((n, m, seed, split) =>
            {
                var rng = new Random(seed);
                var linear = RandomModel(rng, n, m);
                var data = RandomData(rng, m, 3);
                var growthData = RandomData(rng, 1, 0);
                for (var i = 0; i < growthData.Length; i++)
                {
                    growthData[i] = Math.Abs(growthData[i]) * 10;
                }

                IEnumerable<(IEstimator Estimator, double[] Data, int M)> cases =
                [
                    .. Estimators(linear).Select(e => (e, data, m)),
                    (new FixedLagSmoother(new UnscentedKalmanFilter(NonlinearModels.FromLinear(linear)), 3), data, m),
                    (new UnscentedKalmanFilter(NonlinearModels.Growth(10, 1, [0], [5], priorAtTimeZero: true), SigmaPoints.Merwe(1, 2, 2)), growthData, 1),
                    (new ExtendedKalmanFilter(NonlinearModels.Growth(10, 1, [0], [5]), JacobianSource.FiniteDifferences), growthData, 1),
                ];
                foreach (var (estimator, y, dim) in cases)
                {
                    var state = new double[estimator.Info.StateLength];
                    estimator.Initialize(state, 7);
                    var est = new Estimate(estimator.Info);
                    var record = new double[estimator.Info.BackwardRecordLength];
                    for (var t = 0; t < split; t++)
                    {
                        estimator.Step(state, new Observation(y.AsSpan(t * dim, dim), 1.0, t), est, record);
                    }

                    var copy = (double[])state.Clone();
                    var estCopy = new Estimate(estimator.Info);
                    var recordCopy = new double[record.Length];
                    for (var t = split; t < Steps; t++)
                    {
                        estimator.Step(state, new Observation(y.AsSpan(t * dim, dim), 1.0, t), est, record);
                        estimator.Step(copy, new Observation(y.AsSpan(t * dim, dim), 1.0, t), estCopy, recordCopy);
                        var what = $"{estimator.Info.Family} seed={seed} split={split} t={t + 1}";
                        Assert.True(Bits(est.StateMean).SequenceEqual(Bits(estCopy.StateMean)), what);
                        Assert.True(Bits(est.StateCovariance).SequenceEqual(Bits(estCopy.StateCovariance)), what);
                        Assert.True(Bits(est.ObservationCovariance).SequenceEqual(Bits(estCopy.ObservationCovariance)), what);
                        Assert.Equal(BitConverter.DoubleToInt64Bits(est.LogLikelihood), BitConverter.DoubleToInt64Bits(estCopy.LogLikelihood));
                        Assert.Equal(est.HasSmoothed, estCopy.HasSmoothed);
                        Assert.True(Bits(est.SmoothedMean).SequenceEqual(Bits(estCopy.SmoothedMean)), what);
                        Assert.True(Bits(record).SequenceEqual(Bits(recordCopy)), what);
                    }

                    Assert.True(Bits(state).SequenceEqual(Bits(copy)), $"{estimator.Info.Family} final state");
                }
            }, iter: 60);
    }

    internal static LinearGaussianModel RandomModel(Random rng, int n, int m)
    {
        var f = new double[n * n];
        for (var i = 0; i < f.Length; i++)
        {
            f[i] = Normal(rng) * 0.7;
        }

        var h = new double[m * n];
        for (var i = 0; i < h.Length; i++)
        {
            h[i] = Normal(rng);
        }

        // Q may be rank-deficient (as for integrated processes); R and the prior are positive definite.
        var q = RandomCovariance(rng, n, rng.Next(1, n + 1), 0.0);
        var r = RandomCovariance(rng, m, m, 0.05);
        var p0 = RandomCovariance(rng, n, n, 0.1);
        var a0 = new double[n];
        for (var i = 0; i < n; i++)
        {
            a0[i] = Normal(rng);
        }

        return new LinearGaussianModel(new MatrixDynamics(n, f, q), m, h, r, a0, p0);
    }

    private static IEnumerable<IEstimator> Estimators(LinearGaussianModel linear)
    {
        var model = NonlinearModels.FromLinear(linear);
        yield return new KalmanFilter(linear);
        yield return new ExtendedKalmanFilter(model);
        yield return new UnscentedKalmanFilter(model);
        yield return new UnscentedKalmanFilter(model, SigmaPoints.Merwe(1e-3, 2, 0));
        yield return new UnscentedKalmanFilter(model, SigmaPoints.Julier(3.0 - linear.StateDimension));
    }

    private static double[] RandomData(Random rng, int m, int missingEvery)
    {
        var y = new double[Steps * m];
        for (var i = 0; i < y.Length; i++)
        {
            y[i] = missingEvery > 0 && i % (missingEvery + 2) == 1 ? double.NaN : Normal(rng) * 3;
        }

        return y;
    }

    private static double[] RandomCovariance(Random rng, int n, int rank, double ridge)
    {
        var a = new double[n * rank];
        for (var i = 0; i < a.Length; i++)
        {
            a[i] = Normal(rng);
        }

        var p = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var s = i == j ? ridge : 0.0;
                for (var k = 0; k < rank; k++)
                {
                    s += a[(i * rank) + k] * a[(j * rank) + k];
                }

                p[(i * n) + j] = s;
            }
        }

        // Exactly symmetric.
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < i; j++)
            {
                p[(i * n) + j] = p[(j * n) + i];
            }
        }

        return p;
    }

    private static double Normal(Random rng) =>
        Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble())) * Math.Cos(2.0 * Math.PI * rng.NextDouble());

    private static void AssertCovariance(double[] p, int n, string what)
    {
        var scale = 0.0;
        foreach (var v in p)
        {
            Assert.True(double.IsFinite(v), $"{what}: non-finite entry {v}");
            scale = Math.Max(scale, Math.Abs(v));
        }

        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < i; j++)
            {
                Assert.True(Math.Abs(p[(i * n) + j] - p[(j * n) + i]) <= 1e-12 * Math.Max(scale, 1e-300), $"{what}: not symmetric at [{i}][{j}]");
            }
        }

        var evd = Matrix<double>.Build.DenseOfRowMajor(n, n, p).Evd(Symmetricity.Symmetric);
        var min = evd.EigenValues.Min(e => e.Real);
        Assert.True(min >= -1e-9 * Math.Max(scale, 1e-300), $"{what}: eigenvalue {min:G3} (scale {scale:G3})");
    }

    private static long[] Bits(ReadOnlySpan<double> values)
    {
        var bits = new long[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            bits[i] = BitConverter.DoubleToInt64Bits(values[i]);
        }

        return bits;
    }
}
