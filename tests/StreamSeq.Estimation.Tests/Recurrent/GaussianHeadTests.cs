using MathNet.Numerics.Distributions;
using MathNet.Numerics.LinearAlgebra;
using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Estimation.Tests.Recurrent;

/// <summary>The Gaussian head against dense linear algebra from MathNet.Numerics.</summary>
public sealed class GaussianHeadTests
{
    private const int Hidden = 6;
    private const int M = 3;

    [Theory]
    [InlineData(GaussianCovarianceForm.DiagonalLogVariance)]
    [InlineData(GaussianCovarianceForm.CholeskyExp)]
    [InlineData(GaussianCovarianceForm.CholeskySoftplus)]
    public void LogDensity_RandomOutputs_MatchesDenseGaussian(GaussianCovarianceForm form)
    {
        var (head, weights) = CreateHead(form, seed: 2);
        var random = new Random(4);
        for (var trial = 0; trial < 20; trial++)
        {
            var h = RandomWeights.Vector(random, Hidden);
            var u = new double[head.OutputSize];
            head.Evaluate(h, u);
            Assert.Equal(Linear(weights, h), u, new ToleranceComparer(1e-14));

            var sigma = DenseCovariance(form, u);
            var y = RandomWeights.Vector(random, M, 2.0);
            var expected = DenseLogDensity(u.AsSpan(0, M).ToArray(), sigma, y);
            Assert.Equal(expected, head.LogDensity(u, y), 1e-11);

            var cov = new double[M * M];
            head.GetCovariance(u, cov);
            for (var k = 0; k < M * M; k++)
            {
                Assert.Equal(sigma[k / M, k % M], cov[k], 1e-12);
            }
        }
    }

    [Theory]
    [InlineData(GaussianCovarianceForm.DiagonalLogVariance)]
    [InlineData(GaussianCovarianceForm.CholeskyExp)]
    [InlineData(GaussianCovarianceForm.CholeskySoftplus)]
    public void LogDensity_MissingComponents_EqualsMarginalDensity(GaussianCovarianceForm form)
    {
        var (head, _) = CreateHead(form, seed: 3);
        var random = new Random(5);
        var u = new double[head.OutputSize];
        head.Evaluate(RandomWeights.Vector(random, Hidden), u);
        var sigma = DenseCovariance(form, u);
        var y = RandomWeights.Vector(random, M, 2.0);
        int[][] observedSets = [[0, 2], [1], [2], [0, 1]];
        foreach (var observed in observedSets)
        {
            var withMissing = Enumerable.Range(0, M).Select(j => observed.Contains(j) ? y[j] : double.NaN).ToArray();
            var sub = Matrix<double>.Build.Dense(observed.Length, observed.Length, (a, b) => sigma[observed[a], observed[b]]);
            var expected = DenseLogDensity(observed.Select(j => u[j]).ToArray(), sub, observed.Select(j => y[j]).ToArray());
            Assert.Equal(expected, head.LogDensity(u, withMissing), 1e-11);
        }

        Assert.Equal(0.0, head.LogDensity(u, [double.NaN, double.NaN, double.NaN]));
    }

    [Fact]
    public void LogDensity_OneDimensionalDiagonal_EqualsNormalPdf()
    {
        var tensors = new StateDictionary([
            NamedTensor.Create<double>("head.weight", [2, 1], [0.0, 0.0]),
            NamedTensor.Create<double>("head.bias", [2], [0.7, Math.Log(2.5)]),
        ]);
        var head = new GaussianHead<double>(tensors, 1, 1, GaussianCovarianceForm.DiagonalLogVariance);
        var u = new double[2];
        head.Evaluate([1.0], u);
        Assert.Equal(Normal.PDFLn(0.7, Math.Sqrt(2.5), -1.3), head.LogDensity(u, [-1.3]), 1e-13);
    }

    [Fact]
    public void LogDensity_CholeskyWithZeroOffDiagonal_EqualsDiagonalForm()
    {
        // log-variance s corresponds to an exp-diagonal Cholesky entry s/2.
        var s = new[] { 0.3, -1.1, 0.8 };
        var mean = new[] { 0.5, -0.5, 1.0 };
        var diagHead = ConstantHead(GaussianCovarianceForm.DiagonalLogVariance, [.. mean, .. s]);
        var cholHead = ConstantHead(GaussianCovarianceForm.CholeskyExp, [.. mean, s[0] / 2, 0, s[1] / 2, 0, 0, s[2] / 2]);
        var ud = new double[diagHead.OutputSize];
        var uc = new double[cholHead.OutputSize];
        diagHead.Evaluate([0.0], ud);
        cholHead.Evaluate([0.0], uc);
        double[] y = [1.2, 0.1, -0.4];
        Assert.Equal(diagHead.LogDensity(ud, y), cholHead.LogDensity(uc, y), 1e-13);
    }

    [Fact]
    public void GetCholeskyFactor_Softplus_IsLowerTriangularWithSoftplusDiagonal()
    {
        var head = ConstantHead(GaussianCovarianceForm.CholeskySoftplus, [0, 0, 0, -2.0, 0.4, 30.0, -0.2, 0.1, 0.0]);
        var u = new double[head.OutputSize];
        head.Evaluate([0.0], u);
        var l = new double[M * M];
        head.GetCholeskyFactor(u, l);
        Assert.Equal(Math.Log(1 + Math.Exp(-2.0)), l[0], 1e-15);
        Assert.Equal(0.4, l[3]);
        Assert.Equal(30.0 + Math.Log(1 + Math.Exp(-30.0)), l[4], 1e-12);
        Assert.Equal(-0.2, l[6]);
        Assert.Equal(0.1, l[7]);
        Assert.Equal(Math.Log(2), l[8], 1e-15);
        Assert.Equal(0.0, l[1]);
        Assert.Equal(0.0, l[2]);
        Assert.Equal(0.0, l[5]);
    }

    private static GaussianHead<double> ConstantHead(GaussianCovarianceForm form, double[] bias)
    {
        var tensors = new StateDictionary([
            NamedTensor.Create<double>("head.weight", [bias.Length, 1], new double[bias.Length]),
            NamedTensor.Create<double>("head.bias", [bias.Length], bias),
        ]);
        return new GaussianHead<double>(tensors, 1, M, form);
    }

    private static (GaussianHead<double> Head, StateDictionary Weights) CreateHead(GaussianCovarianceForm form, int seed)
    {
        var outputs = M + (form == GaussianCovarianceForm.DiagonalLogVariance ? M : M * (M + 1) / 2);
        var random = new Random(seed);
        var weights = new StateDictionary([
            RandomWeights.Tensor(random, "head.weight", 0.4, outputs, Hidden),
            RandomWeights.Tensor(random, "head.bias", 0.4, outputs),
        ]);
        return (new GaussianHead<double>(weights, Hidden, M, form), weights);
    }

    private static double[] Linear(StateDictionary weights, double[] h)
    {
        var w = weights["head.weight"].ToArray<double>();
        var b = weights["head.bias"].ToArray<double>();
        return b.Select((bias, r) => bias + h.Select((v, k) => w[(r * h.Length) + k] * v).Sum()).ToArray();
    }

    private static Matrix<double> DenseCovariance(GaussianCovarianceForm form, double[] u)
    {
        if (form == GaussianCovarianceForm.DiagonalLogVariance)
        {
            return Matrix<double>.Build.DenseOfDiagonalArray(u.Skip(M).Take(M).Select(Math.Exp).ToArray());
        }

        var l = Matrix<double>.Build.Dense(M, M);
        var p = M;
        for (var r = 0; r < M; r++)
        {
            for (var c = 0; c <= r; c++)
            {
                var raw = u[p++];
                l[r, c] = r != c ? raw : form == GaussianCovarianceForm.CholeskyExp ? Math.Exp(raw) : Math.Log(1 + Math.Exp(raw));
            }
        }

        return l * l.Transpose();
    }

    private static double DenseLogDensity(double[] mean, Matrix<double> sigma, double[] y)
    {
        var r = Vector<double>.Build.DenseOfArray(y) - Vector<double>.Build.DenseOfArray(mean);
        var quadratic = r * sigma.Inverse() * r;
        return -0.5 * ((y.Length * Math.Log(2 * Math.PI)) + Math.Log(sigma.Determinant()) + quadratic);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}
