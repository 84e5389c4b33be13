using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;

namespace StreamSeq.Estimation.Tests.Support;

/// <summary>
/// The log-likelihood of a proper-prior linear Gaussian model with unit gaps, by the textbook covariance filter
/// (P = P⁻ − K H P⁻, no Joseph form, no guard rails) in <see cref="FixedPoint"/> arithmetic: a reference whose own
/// rounding is some 80 digits down, for judging how much the double-precision kernels lose on ill-conditioned models.
/// </summary>
internal static class ExtendedPrecisionKalman
{
    private const double Log2Pi = 1.8378770664093453;

    public static double LogLikelihood(LinearGaussianModel model, IReadOnlyList<ObservationSeries> sequences)
    {
        var n = model.StateDimension;
        var m = model.ObservationDimension;
        if (model.IsDiffuse || model.ControlDimension > 0)
        {
            throw new ArgumentException("the reference handles proper priors without controls only", nameof(model));
        }

        double[] fd = new double[n * n], qd = new double[n * n], cd = new double[n];
        model.Dynamics.Discretize(1.0, fd, qd, cd);
        var f = Convert(fd);
        var q = Convert(qd);
        var c = Convert(cd);
        var h = Convert(model.Observation);
        var r = Convert(model.ObservationNoise);
        var d = Convert(model.ObservationOffset);
        var total = 0.0;
        foreach (var series in sequences)
        {
            if (series.TimeGaps is not null)
            {
                throw new ArgumentException("the reference handles unit gaps only", nameof(sequences));
            }

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
                if (observed.Length > 0)
                {
                    total += Update(h, r, d, y, observed, ref a, ref p, n, m);
                }
            }
        }

        return total;
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
