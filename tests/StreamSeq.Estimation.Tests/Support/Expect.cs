namespace StreamSeq.Estimation.Tests.Support;

/// <summary>Numeric assertions with relative tolerances and messages that say where a mismatch is.</summary>
internal static class Expect
{
    public static void Close(double expected, double actual, double relTol, string what, double absTol = 0.0)
    {
        if (double.IsInfinity(expected) || double.IsNaN(expected))
        {
            Assert.True(expected.Equals(actual), $"{what}: expected {expected}, got {actual}");
            return;
        }

        var tol = Math.Max(absTol, relTol * Math.Max(1.0, Math.Abs(expected)));
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}: expected {expected:R}, got {actual:R} (diff {Math.Abs(expected - actual):G3}, tol {tol:G3})");
    }

    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double relTol, string what, double absTol = 0.0)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Close(expected[i], actual[i], relTol, $"{what}[{i}]", absTol);
        }
    }
}
