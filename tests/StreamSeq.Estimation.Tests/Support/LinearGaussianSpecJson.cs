using System.Globalization;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Tests.Support;

/// <summary>Linear-gaussian model specs written from row-major matrices, with every number round-tripping exactly.</summary>
internal static class LinearGaussianSpecJson
{
    /// <summary>The spec; <paramref name="extra"/> (e.g. <c>, "adapt": [...]</c>) is appended to its fields.</summary>
    public static ModelSpec Spec(int n, int m, double[] f, double[] q, double[] h, double[] r, double[] a1, double[] p1, string extra = "") => ModelSpec.Parse(
        $$"""{"name":"em","kind":"linear-gaussian","transition":{{Json(f, n, n)}},"transitionNoise":{{Json(q, n, n)}},"observation":{{Json(h, m, n)}},"observationNoise":{{Json(r, m, m)}},"initialMean":{{Json(a1)}},"initialCovariance":{{Json(p1, n, n)}}{{extra}}}""");

    private static string Json(ReadOnlySpan<double> a, int rows, int columns)
    {
        var parts = new List<string>();
        for (var i = 0; i < rows; i++)
        {
            parts.Add(Json(a.Slice(i * columns, columns)));
        }

        return "[" + string.Join(",", parts) + "]";
    }

    private static string Json(ReadOnlySpan<double> v) =>
        "[" + string.Join(",", v.ToArray().Select(x => x.ToString("R", CultureInfo.InvariantCulture))) + "]";
}
