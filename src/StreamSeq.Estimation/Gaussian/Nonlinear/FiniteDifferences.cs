namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>
/// Central-difference Jacobians for models without analytic ones.
/// </summary>
/// <remarks>
/// Column j uses the step h_j = ε^{1/3}·max(|x_j|, 1) with ε = 2⁻⁵² (so h_j ≈ 6.1e-6 for |x_j| ≤ 1): it balances the
/// O(h²) truncation error of the central difference against the O(ε/h) rounding error, leaving about 10 correct
/// digits for smooth functions. The divisor is the difference of the two perturbed arguments as actually
/// represented, (x_j + h_j) − (x_j − h_j), not 2h_j, which removes the rounding of the step itself.
/// </remarks>
internal static class FiniteDifferences
{
    /// <summary>ε^{1/3} for ε = 2⁻⁵².</summary>
    public static readonly double RelativeStep = Math.Cbrt(Math.ScaleB(1.0, -52));

    /// <summary>The step for a coordinate of value <paramref name="x"/>.</summary>
    public static double Step(double x) => RelativeStep * Math.Max(Math.Abs(x), 1.0);

    /// <summary>∂f/∂x (n×n) at x; <paramref name="work"/> holds 3n doubles.</summary>
    public static void Transition(TransitionFunction f, ReadOnlySpan<double> x, TransitionContext context, int n, Span<double> jacobian, Span<double> work)
    {
        var point = work[..n];
        var up = work.Slice(n, n);
        var down = work.Slice(2 * n, n);
        x.CopyTo(point);
        for (var j = 0; j < n; j++)
        {
            var h = Step(x[j]);
            var plus = x[j] + h;
            var minus = x[j] - h;
            point[j] = plus;
            f(point, context, up);
            point[j] = minus;
            f(point, context, down);
            point[j] = x[j];
            var inv = 1.0 / (plus - minus);
            for (var i = 0; i < n; i++)
            {
                jacobian[(i * n) + j] = (up[i] - down[i]) * inv;
            }
        }
    }

    /// <summary>∂h/∂x (m×n) at x; <paramref name="work"/> holds n + 2m doubles.</summary>
    public static void Observation(ObservationFunction h, ReadOnlySpan<double> x, int n, int m, Span<double> jacobian, Span<double> work)
    {
        var point = work[..n];
        var up = work.Slice(n, m);
        var down = work.Slice(n + m, m);
        x.CopyTo(point);
        for (var j = 0; j < n; j++)
        {
            var step = Step(x[j]);
            var plus = x[j] + step;
            var minus = x[j] - step;
            point[j] = plus;
            h(point, up);
            point[j] = minus;
            h(point, down);
            point[j] = x[j];
            var inv = 1.0 / (plus - minus);
            for (var i = 0; i < m; i++)
            {
                jacobian[(i * n) + j] = (up[i] - down[i]) * inv;
            }
        }
    }
}
