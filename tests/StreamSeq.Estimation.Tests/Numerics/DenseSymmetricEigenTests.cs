using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Numerics;

public sealed class DenseSymmetricEigenTests
{
    [Theory]
    [InlineData(1e-16)]
    [InlineData(1.0)]
    [InlineData(1e12)]
    public void SymmetricEigen_AnyScale_GivesTheAnalyticEigenvalues(double scale)
    {
        // [[2, 1], [1, 2]] has eigenvalues 1 and 3 at every scale.
        double[] a = [2 * scale, scale, scale, 2 * scale];
        var values = new double[2];
        var vectors = new double[4];
        Dense.SymmetricEigen(a, 2, values, vectors);
        Array.Sort(values);
        Expect.Close(1.0, values[0] / scale, 1e-12, "smaller eigenvalue / scale");
        Expect.Close(3.0, values[1] / scale, 1e-12, "larger eigenvalue / scale");
    }

    [Fact]
    public void ValidateCovariance_TinyIndefiniteMatrix_IsRejected()
    {
        // Eigenvalues 3e-16 and -1e-16: not a covariance, however small.
        var e = Assert.Throws<ModelValidationException>(() => Validate.Covariance("initialCovariance", [1e-16, 2e-16, 2e-16, 1e-16], 2));
        Assert.Equal("initialCovariance", e.Field);
    }
}
