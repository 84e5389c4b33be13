using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;

namespace StreamSeq.Estimation.Tests.Support;

/// <summary>
/// The log-likelihood and filtered moments of a proper-prior linear Gaussian model with unit gaps, by the textbook
/// covariance filter (P = P⁻ − K H P⁻, no Joseph form, no guard rails) in <see cref="FixedPoint"/> arithmetic: a
/// reference whose own rounding is some 80 digits down (60 with a 1e30 prior), for judging how much the
/// double-precision kernels lose on ill-conditioned models, and the limit of a vague prior.
/// </summary>
internal static class ExtendedPrecisionKalman
{
    private const double Log2Pi = 1.8378770664093453;

    public static double LogLikelihood(LinearGaussianModel model, IReadOnlyList<ObservationSeries> sequences)
    {
        var total = 0.0;
        foreach (var series in sequences)
        {
            foreach (var step in Filter(model, series))
            {
                total += step.LogLikelihood;
            }
        }

        return total;
    }

    /// <summary>
    /// The filtered moments a_t, P_t (each rounded to double once) and log p(y_t | y_1..t−1) of every step of one
    /// series (log-likelihood 0 at a step with nothing observed).
    /// </summary>
    public static IEnumerable<(double[] Mean, double[] Covariance, double LogLikelihood)> Filter(LinearGaussianModel model, ObservationSeries series)
    {
        var n = model.StateDimension;
        var m = model.ObservationDimension;
        var (f, q, c, h, r) = Matrices(model, series);
        var d = Convert(model.ObservationOffset);
        var a = Convert(model.InitialMean);
        var p = Convert(model.InitialCovariance);
        for (var t = 0; t < series.Length; t++)
        {
            if (t > 0)
            {
                (a, p) = Predict(f, q, c, a, p, n);
            }

            var y = series.At(t).Values.ToArray();
            var observed = Enumerable.Range(0, m).Where(i => double.IsFinite(y[i])).ToArray();
            var logLikelihood = observed.Length > 0 ? Update(h, r, d, y, observed, ref a, ref p, n, m) : 0.0;
            yield return ([.. a.Select(x => x.ToDouble())], [.. p.Select(x => x.ToDouble())], logLikelihood);
        }
    }

    /// <summary>
    /// For a vague proper prior N(a₀, κ I): the share z'P⁻z / (|z|² tr P⁻) of every observed row z while some of κ is
    /// still in P (tr P⁻ &gt; 1e-10 κ), the rows decorrelated as R_oo = L D L' (z the rows of L⁻¹ H_o) and taken one at a
    /// time, as the exact diffuse filter takes them (<c>DiffuseInitialization.Update</c>). Up to O(1/κ) this is the
    /// row's diffuse variance relative to the diffuse scale, F_∞ / (|z|² tr P_∞), the quantity of the filter's rank
    /// decision; about 1/κ for a row that sees no undetermined direction.
    /// </summary>
    public static IEnumerable<double> DiffuseShares(LinearGaussianModel model, ObservationSeries series, double kappa)
    {
        var n = model.StateDimension;
        var m = model.ObservationDimension;
        var (f, q, c, h, r) = Matrices(model, series);
        var a = new FixedPoint[n];
        var p = Convert(model.InitialCovariance);
        var diffuseScale = FixedPoint.From(1e-10 * kappa);
        for (var t = 0; t < series.Length; t++)
        {
            if (t > 0)
            {
                (a, p) = Predict(f, q, c, a, p, n);
            }

            var y = series.At(t).Values.ToArray();
            var observed = Enumerable.Range(0, m).Where(i => double.IsFinite(y[i])).ToArray();
            var k = observed.Length;

            // R_oo = L D L' (L unit lower), then the rows of L⁻¹ H_o by forward substitution.
            var l = new FixedPoint[k * k];
            var dv = new FixedPoint[k];
            var z = new FixedPoint[k * n];
            for (var i = 0; i < k; i++)
            {
                for (var j = 0; j <= i; j++)
                {
                    var acc = r[(observed[i] * m) + observed[j]];
                    for (var b = 0; b < j; b++)
                    {
                        acc -= l[(i * k) + b] * l[(j * k) + b] * dv[b];
                    }

                    if (i == j)
                    {
                        dv[i] = acc;
                        l[(i * k) + i] = FixedPoint.From(1.0);
                    }
                    else
                    {
                        l[(i * k) + j] = acc / dv[j];
                    }
                }

                for (var col = 0; col < n; col++)
                {
                    var acc = h[(observed[i] * n) + col];
                    for (var b = 0; b < i; b++)
                    {
                        acc -= l[(i * k) + b] * z[(b * n) + col];
                    }

                    z[(i * n) + col] = acc;
                }
            }

            for (var row = 0; row < k; row++)
            {
                var trace = FixedPoint.Zero;
                for (var i = 0; i < n; i++)
                {
                    trace += p[(i * n) + i];
                }

                var pz = new FixedPoint[n];
                FixedPoint zpz = FixedPoint.Zero, zz = FixedPoint.Zero;
                for (var i = 0; i < n; i++)
                {
                    for (var j = 0; j < n; j++)
                    {
                        pz[i] += p[(i * n) + j] * z[(row * n) + j];
                    }

                    zpz += z[(row * n) + i] * pz[i];
                    zz += z[(row * n) + i] * z[(row * n) + i];
                }

                if (trace.Units > diffuseScale.Units)
                {
                    yield return (zpz / (zz * trace)).ToDouble();
                }

                // P ← P − P z z'P / (z'P z + d).
                var s = zpz + dv[row];
                for (var i = 0; i < n; i++)
                {
                    for (var j = 0; j < n; j++)
                    {
                        p[(i * n) + j] -= pz[i] * pz[j] / s;
                    }
                }
            }
        }
    }

    /// <summary>F, Q, c of a unit gap, H and R, after checking that the reference handles the model and series.</summary>
    private static (FixedPoint[] F, FixedPoint[] Q, FixedPoint[] C, FixedPoint[] H, FixedPoint[] R) Matrices(LinearGaussianModel model, ObservationSeries series)
    {
        var n = model.StateDimension;
        if (model.IsDiffuse || model.ControlDimension > 0)
        {
            throw new ArgumentException("the reference handles proper priors without controls only", nameof(model));
        }

        if (series.TimeGaps is not null)
        {
            throw new ArgumentException("the reference handles unit gaps only", nameof(series));
        }

        double[] fd = new double[n * n], qd = new double[n * n], cd = new double[n];
        model.Dynamics.Discretize(1.0, fd, qd, cd);
        return (Convert(fd), Convert(qd), Convert(cd), Convert(model.Observation), Convert(model.ObservationNoise));
    }

    private static FixedPoint[] Convert(ReadOnlySpan<double> values)
    {
        var result = new FixedPoint[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            result[i] = FixedPoint.From(values[i]);
        }

        return result;
    }

    private static (FixedPoint[] Mean, FixedPoint[] Covariance) Predict(FixedPoint[] f, FixedPoint[] q, FixedPoint[] c, FixedPoint[] a, FixedPoint[] p, int n)
    {
        var mean = new FixedPoint[n];
        var fp = new FixedPoint[n * n];
        for (var i = 0; i < n; i++)
        {
            mean[i] = c[i];
            for (var k = 0; k < n; k++)
            {
                mean[i] += f[(i * n) + k] * a[k];
            }

            for (var j = 0; j < n; j++)
            {
                var acc = FixedPoint.Zero;
                for (var k = 0; k < n; k++)
                {
                    acc += f[(i * n) + k] * p[(k * n) + j];
                }

                fp[(i * n) + j] = acc;
            }
        }

        var covariance = new FixedPoint[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                var acc = q[(i * n) + j];
                for (var k = 0; k < n; k++)
                {
                    acc += fp[(i * n) + k] * f[(j * n) + k];
                }

                covariance[(i * n) + j] = acc;
            }
        }

        return (mean, covariance);
    }

    /// <summary>log p(y_o | past) and the update of <paramref name="a"/>, <paramref name="p"/>.</summary>
    private static double Update(FixedPoint[] h, FixedPoint[] r, FixedPoint[] d, double[] y, int[] observed, ref FixedPoint[] a, ref FixedPoint[] p, int n, int m)
    {
        var k = observed.Length;

        // U = H_o P⁻ (k×n), v = y_o − H_o a⁻ − d_o, S = U H_o' + R_oo.
        var u = new FixedPoint[k * n];
        var v = new FixedPoint[k];
        for (var row = 0; row < k; row++)
        {
            var i = observed[row];
            var predicted = d[i];
            for (var j = 0; j < n; j++)
            {
                predicted += h[(i * n) + j] * a[j];
                var acc = FixedPoint.Zero;
                for (var l = 0; l < n; l++)
                {
                    acc += h[(i * n) + l] * p[(l * n) + j];
                }

                u[(row * n) + j] = acc;
            }

            v[row] = FixedPoint.From(y[i]) - predicted;
        }

        var s = new FixedPoint[k * k];
        for (var row = 0; row < k; row++)
        {
            for (var col = 0; col < k; col++)
            {
                var acc = r[(observed[row] * m) + observed[col]];
                for (var j = 0; j < n; j++)
                {
                    acc += u[(row * n) + j] * h[(observed[col] * n) + j];
                }

                s[(row * k) + col] = acc;
            }
        }

        // Solve S [x | X] = [v | U] by elimination without pivoting (S is positive definite); log|S| from the pivots.
        var width = 1 + n;
        var rhs = new FixedPoint[k * width];
        for (var row = 0; row < k; row++)
        {
            rhs[row * width] = v[row];
            Array.Copy(u, row * n, rhs, (row * width) + 1, n);
        }

        var logDet = 0.0;
        for (var col = 0; col < k; col++)
        {
            var pivot = s[(col * k) + col];
            logDet += Math.Log(pivot.ToDouble());
            for (var row = col + 1; row < k; row++)
            {
                var factor = s[(row * k) + col] / pivot;
                for (var j = col; j < k; j++)
                {
                    s[(row * k) + j] -= factor * s[(col * k) + j];
                }

                for (var j = 0; j < width; j++)
                {
                    rhs[(row * width) + j] -= factor * rhs[(col * width) + j];
                }
            }
        }

        for (var col = k - 1; col >= 0; col--)
        {
            for (var j = 0; j < width; j++)
            {
                var acc = rhs[(col * width) + j];
                for (var row = col + 1; row < k; row++)
                {
                    acc -= s[(col * k) + row] * rhs[(row * width) + j];
                }

                rhs[(col * width) + j] = acc / s[(col * k) + col];
            }
        }

        // v' S⁻¹ v; a = a⁻ + K v and P = P⁻ − K U with K' = S⁻¹ U (the columns 1..n of rhs).
        var mahalanobis = FixedPoint.Zero;
        for (var row = 0; row < k; row++)
        {
            mahalanobis += v[row] * rhs[row * width];
        }

        var mean = new FixedPoint[n];
        var covariance = new FixedPoint[n * n];
        for (var i = 0; i < n; i++)
        {
            mean[i] = a[i];
            for (var row = 0; row < k; row++)
            {
                mean[i] += rhs[(row * width) + 1 + i] * v[row];
            }

            for (var j = 0; j < n; j++)
            {
                var acc = p[(i * n) + j];
                for (var row = 0; row < k; row++)
                {
                    acc -= rhs[(row * width) + 1 + i] * u[(row * n) + j];
                }

                covariance[(i * n) + j] = acc;
            }
        }

        a = mean;
        p = covariance;
        return -0.5 * ((k * Log2Pi) + logDet + mahalanobis.ToDouble());
    }
}
