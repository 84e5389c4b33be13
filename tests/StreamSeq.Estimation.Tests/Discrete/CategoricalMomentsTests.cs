using StreamSeq.Estimation.Discrete;

namespace StreamSeq.Estimation.Tests.Discrete;

public sealed class CategoricalMomentsTests
{
    [Fact]
    public void Moments_RowConcentratedOnAHighCategory_VarianceIsCentred()
    {
        // 1000 categories, state 0 puts 2^-40 on category 998 and 1 - 2^-40 on 999. Exact fractions (Python): mean
        // 999 - 2^-40 = 998.9999999999991, variance 2^-40 (1 - 2^-40) = 9.094947017721011e-13. Σ c² p − mean²
        // subtracts two numbers near 998001, spaced 1.2e-10 apart, and gave 0. State 1 (mass 1/4, 3/4 on 1 and 3)
        // checks an ordinary row: mean 2.5, variance 0.75, both exact in binary.
        const int categories = 1000;
        var probabilities = new double[2 * categories];
        probabilities[998] = Math.Pow(2, -40);
        probabilities[999] = 1.0 - Math.Pow(2, -40);
        probabilities[categories + 1] = 0.25;
        probabilities[categories + 3] = 0.75;
        var emission = new CategoricalEmission(probabilities, categories);
        var mean = new double[1];
        var variance = new double[1];

        emission.Moments(0, mean, variance);
        Assert.Equal(998.9999999999991, mean[0], 13);
        Assert.Equal(9.094947017721011e-13, variance[0], 1e-24);

        emission.Moments(1, mean, variance);
        Assert.Equal(2.5, mean[0]);
        Assert.Equal(0.75, variance[0]);
    }
}
