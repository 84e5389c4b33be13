using System.Runtime.CompilerServices;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Gaussian.Adaptive;

/// <summary>
/// The Gauss–Newton algebra of recursive maximum likelihood on the discounted Fisher information I (p×p): the step
/// (I + εI)⁻¹ g and the standard deviations √((I + εI)⁻¹)_jj, with the ridge ε = 10⁻³ tr(I)/p that keeps a parameter
/// the data barely inform from taking huge steps. Closed forms up to three parameters, one Cholesky factor for more;
/// nothing allocates.
/// </summary>
internal static class DiscountedInformation
{
    /// <summary>The ridge as a fraction of the mean diagonal of I.</summary>
    public const double Ridge = 1e-3;

    private const int StackLimit = 16;

    /// <summary>
    /// Replaces <paramref name="g"/> by (I + εI)⁻¹ g and writes √((I + εI)⁻¹)_jj into <paramref name="deviations"/>;
    /// false (g unchanged, deviations NaN) when I holds no information yet or is not positive definite.
    /// </summary>
    [SkipLocalsInit]
    public static bool Step(ReadOnlySpan<double> information, int p, Span<double> g, Span<double> deviations)
    {
        var trace = 0.0;
        for (var j = 0; j < p; j++)
        {
            trace += information[(j * p) + j];
        }

        var ridge = Ridge * trace / p;
        if (!(trace > 0.0) || !double.IsFinite(trace))
        {
            deviations[..p].Fill(double.NaN);
            return false;
        }

        if (p == 1)
        {
            var inverse = 1.0 / (information[0] + ridge);
            g[0] *= inverse;
            deviations[0] = Math.Sqrt(inverse);
            return true;
        }

        if (p == 2)
        {
            double a = information[0] + ridge, b = information[1], c = information[3] + ridge;
            var det = (a * c) - (b * b);
            if (!(det > 0.0))
            {
                deviations[..p].Fill(double.NaN);
                return false;
            }

            var inverse = 1.0 / det;
            double g0 = g[0], g1 = g[1];
            g[0] = ((c * g0) - (b * g1)) * inverse;
            g[1] = ((a * g1) - (b * g0)) * inverse;
            deviations[0] = Math.Sqrt(c * inverse);
            deviations[1] = Math.Sqrt(a * inverse);
            return true;
        }

        if (p == 3)
        {
            // The adjugate of the symmetric 3×3 matrix divided by its determinant.
            double a = information[0] + ridge, b = information[1], c = information[2];
            double d = information[4] + ridge, e = information[5], f = information[8] + ridge;
            double c00 = (d * f) - (e * e), c01 = (c * e) - (b * f), c02 = (b * e) - (c * d);
            double c11 = (a * f) - (c * c), c12 = (b * c) - (a * e), c22 = (a * d) - (b * b);
            var det = (a * c00) + (b * c01) + (c * c02);
            if (!(det > 0.0) || !(c11 > 0.0) || !(c22 > 0.0))
            {
                deviations[..p].Fill(double.NaN);
                return false;
            }

            var inverse = 1.0 / det;
            double g0 = g[0], g1 = g[1], g2 = g[2];
            g[0] = ((c00 * g0) + (c01 * g1) + (c02 * g2)) * inverse;
            g[1] = ((c01 * g0) + (c11 * g1) + (c12 * g2)) * inverse;
            g[2] = ((c02 * g0) + (c12 * g1) + (c22 * g2)) * inverse;
            deviations[0] = Math.Sqrt(c00 * inverse);
            deviations[1] = Math.Sqrt(c11 * inverse);
            deviations[2] = Math.Sqrt(c22 * inverse);
            return true;
        }

        var arena = p > StackLimit ? ScratchArena.Current : null;
        var mark = arena?.Mark ?? 0;
        var l = arena is null ? stackalloc double[p * p] : arena.TakeUninitialized(p * p);
        var z = arena is null ? stackalloc double[p] : arena.TakeUninitialized(p);
        information[..(p * p)].CopyTo(l);
        for (var j = 0; j < p; j++)
        {
            l[(j * p) + j] += ridge;
        }

        var ok = Dense.Cholesky(l, p);
        if (ok)
        {
            Dense.CholeskySolve(l, p, g, 1);

            // (A⁻¹)_jj = |L⁻¹ e_j|², and (L⁻¹ e_j)_k = 0 for k < j.
            for (var j = 0; j < p; j++)
            {
                var sum = 0.0;
                for (var i = j; i < p; i++)
                {
                    var s = i == j ? 1.0 : 0.0;
                    for (var k = j; k < i; k++)
                    {
                        s -= l[(i * p) + k] * z[k];
                    }

                    z[i] = s / l[(i * p) + i];
                    sum += z[i] * z[i];
                }

                deviations[j] = Math.Sqrt(sum);
            }
        }
        else
        {
            deviations[..p].Fill(double.NaN);
        }

        arena?.Release(mark);
        return ok;
    }
}
