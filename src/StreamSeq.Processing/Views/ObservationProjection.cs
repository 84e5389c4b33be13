using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Gaussian.Nonlinear;
using StreamSeq.Estimation.Smoothing;

namespace StreamSeq.Processing.Views;

/// <summary>
/// Maps a Gaussian state estimate N(m, P) into observation space, so filtered and smoothed states can be drawn over
/// the readings they explain: the signal mean H m + d and its per-component variance diag(H P Hᵀ).
/// </summary>
/// <remarks>
/// <para>Symbols: m is the state mean and P its covariance (as written in <c>filtered</c> and <c>smoothed</c>
/// records), H the observation matrix (m×n, row-major) and d the observation offset of a linear Gaussian model. The
/// result describes the noise-free signal, not a reading: the observation noise R is not added, so a 95% band
/// m_y ± 1.96·√v_y is the uncertainty of the estimate itself.</para>
/// <para>Linear Gaussian models (the Kalman family) are exact. For the extended and unscented Kalman filters the
/// observation function h is linearised at the mean (first order): h(m) and J P Jᵀ with J = ∂h/∂x, analytic when the
/// model gives it, central differences otherwise. Other families (particle filters, HMMs, changepoint detectors,
/// switching (IMM) models, recurrent nets, the anomaly detector) have no such map and get no projection; callers then show the one-step predictive distribution
/// of the reading instead.</para>
/// </remarks>
public sealed class ObservationProjection
{
    private readonly double[]? matrix;
    private readonly double[] offset;
    private readonly double[] noise;
    private readonly ObservationFunction? function;
    private readonly ObservationJacobian? jacobian;

    private ObservationProjection(int stateDimension, int observationDimension, double[]? matrix, double[] offset, double[] noise, ObservationFunction? function, ObservationJacobian? jacobian)
    {
        this.noise = noise;
        StateDimension = stateDimension;
        ObservationDimension = observationDimension;
        this.matrix = matrix;
        this.offset = offset;
        this.function = function;
        this.jacobian = jacobian;
    }

    /// <summary>n, the length of the state mean the projection accepts.</summary>
    public int StateDimension { get; }

    /// <summary>The number of observed components the projection returns.</summary>
    public int ObservationDimension { get; }

    /// <summary>True for a linear observation map (exact); false for a first-order linearisation.</summary>
    public bool IsExact => matrix is not null;

    /// <summary>A linear projection y = H x + d with observation noise R.</summary>
    /// <param name="observation">H, <paramref name="observationDimension"/>×<paramref name="stateDimension"/>, row-major.</param>
    /// <param name="offset">d (empty for zero).</param>
    /// <param name="observationNoise">R, <paramref name="observationDimension"/>², row-major (empty when unknown).</param>
    /// <param name="observationDimension">Rows of H.</param>
    /// <param name="stateDimension">Columns of H.</param>
    public static ObservationProjection Linear(ReadOnlySpan<double> observation, ReadOnlySpan<double> offset, ReadOnlySpan<double> observationNoise, int observationDimension, int stateDimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(observationDimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stateDimension, 1);
        if (observation.Length != observationDimension * stateDimension)
        {
            throw new ArgumentException($"observation matrix has {observation.Length} entries, expected {observationDimension}x{stateDimension}.", nameof(observation));
        }

        if (!offset.IsEmpty && offset.Length != observationDimension)
        {
            throw new ArgumentException($"offset has {offset.Length} entries, expected {observationDimension}.", nameof(offset));
        }

        if (!observationNoise.IsEmpty && observationNoise.Length != observationDimension * observationDimension)
        {
            throw new ArgumentException($"observation noise has {observationNoise.Length} entries, expected {observationDimension}x{observationDimension}.", nameof(observationNoise));
        }

        var d = new double[observationDimension];
        offset.CopyTo(d);
        return new ObservationProjection(stateDimension, observationDimension, observation.ToArray(), d, observationNoise.ToArray(), null, null);
    }

    /// <summary>
    /// The projection for an estimator's states, or null when its family has no map into observation space.
    /// A fixed-lag smoother is looked through to the estimator it wraps.
    /// </summary>
    public static ObservationProjection? For(IEstimator estimator)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        var inner = estimator is FixedLagSmoother smoother ? smoother.Inner : estimator;
        return inner switch
        {
            KalmanFilter kalman => Linear(kalman.Model.Observation, kalman.Model.ObservationOffset, kalman.Model.ObservationNoise, kalman.Model.ObservationDimension, kalman.Model.StateDimension),
            ExtendedKalmanFilter ekf => Nonlinear(ekf.Model),
            UnscentedKalmanFilter ukf => Nonlinear(ukf.Model),
            _ => null,
        };
    }

    /// <summary>
    /// Projects a state estimate. Non-finite inputs (an exact diffuse prior's infinite variance) give non-finite
    /// variances, which callers leave out of bands.
    /// </summary>
    /// <param name="mean">State mean m (n values).</param>
    /// <param name="covariance">State covariance P (n×n, row-major); empty when the state has none (variances are then 0).</param>
    /// <param name="signalMean">Receives the signal mean (one value per observed component).</param>
    /// <param name="signalVariance">Receives the signal variance per observed component.</param>
    public void Project(ReadOnlySpan<double> mean, ReadOnlySpan<double> covariance, Span<double> signalMean, Span<double> signalVariance)
    {
        var n = StateDimension;
        var m = ObservationDimension;
        if (mean.Length != n)
        {
            throw new ArgumentException($"state mean has {mean.Length} values, the model's state has {n}.", nameof(mean));
        }

        if (!covariance.IsEmpty && covariance.Length != n * n)
        {
            throw new ArgumentException($"state covariance has {covariance.Length} entries, expected {n}x{n}.", nameof(covariance));
        }

        Span<double> rows = n * m <= 256 ? stackalloc double[n * m] : new double[n * m];
        if (matrix is not null)
        {
            matrix.CopyTo(rows);
            for (var i = 0; i < m; i++)
            {
                signalMean[i] = Dot(rows.Slice(i * n, n), mean) + offset[i];
            }
        }
        else
        {
            function!(mean, signalMean[..m]);
            if (jacobian is not null)
            {
                jacobian(mean, rows);
            }
            else
            {
                CentralDifferences(mean, rows);
            }
        }

        for (var i = 0; i < m; i++)
        {
            signalVariance[i] = covariance.IsEmpty ? 0.0 : QuadraticForm(rows.Slice(i * n, n), covariance, n);
        }
    }

    /// <summary>
    /// The filtered signal variance from the one-step predictive covariance of the reading, for steps whose state
    /// covariance cannot be projected (an exact diffuse prior writes its unresolved part as infinite).
    /// </summary>
    /// <remarks>
    /// With S the predictive covariance of y_t (the record's <c>observation.cov</c>) and R the observation noise, the
    /// predicted signal covariance is V = S − R and the Kalman update gives H P_{t|t} Hᵀ = V − V S⁻¹ V. Exact for
    /// linear Gaussian models, first order for the EKF/UKF.
    /// </remarks>
    /// <param name="predictiveCovariance">S, m×m row-major.</param>
    /// <param name="signalVariance">Receives the diagonal of V − V S⁻¹ V.</param>
    /// <returns>False when R is unknown or S is not finite and positive definite.</returns>
    public bool FilteredVarianceFromPredictive(ReadOnlySpan<double> predictiveCovariance, Span<double> signalVariance)
    {
        var m = ObservationDimension;
        if (noise.Length != m * m || predictiveCovariance.Length != m * m)
        {
            return false;
        }

        foreach (var v in predictiveCovariance)
        {
            if (!double.IsFinite(v))
            {
                return false;
            }
        }

        // Cholesky S = L Lᵀ; then V S⁻¹ V = (L⁻¹ V)ᵀ (L⁻¹ V), column by column.
        var l = new double[m * m];
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var sum = predictiveCovariance[(i * m) + j];
                for (var k = 0; k < j; k++)
                {
                    sum -= l[(i * m) + k] * l[(j * m) + k];
                }

                if (i == j)
                {
                    if (!(sum > 0))
                    {
                        return false;
                    }

                    l[(i * m) + i] = Math.Sqrt(sum);
                }
                else
                {
                    l[(i * m) + j] = sum / l[(j * m) + j];
                }
            }
        }

        var column = new double[m];
        for (var c = 0; c < m; c++)
        {
            // column = L⁻¹ V e_c, with V = S − R.
            for (var i = 0; i < m; i++)
            {
                var sum = predictiveCovariance[(i * m) + c] - noise[(i * m) + c];
                for (var k = 0; k < i; k++)
                {
                    sum -= l[(i * m) + k] * column[k];
                }

                column[i] = sum / l[(i * m) + i];
            }

            var quadratic = 0.0;
            foreach (var v in column)
            {
                quadratic += v * v;
            }

            signalVariance[c] = Math.Max(0.0, predictiveCovariance[(c * m) + c] - noise[(c * m) + c] - quadratic);
        }

        return true;
    }

    private static ObservationProjection Nonlinear(NonlinearGaussianModel model) =>
        new(model.StateDimension, model.ObservationDimension, null, new double[model.ObservationDimension], model.ObservationNoise.ToArray(), model.Observation, model.ObservationJacobian);

    private void CentralDifferences(ReadOnlySpan<double> x, Span<double> rows)
    {
        var n = StateDimension;
        var m = ObservationDimension;
        var point = x.ToArray();
        var up = new double[m];
        var down = new double[m];
        for (var j = 0; j < n; j++)
        {
            var step = 6e-6 * Math.Max(Math.Abs(x[j]), 1.0);
            var plus = x[j] + step;
            var minus = x[j] - step;
            point[j] = plus;
            function!(point, up);
            point[j] = minus;
            function!(point, down);
            point[j] = x[j];
            for (var i = 0; i < m; i++)
            {
                rows[(i * n) + j] = (up[i] - down[i]) / (plus - minus);
            }
        }
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var s = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }

        return s;
    }

    // h P hᵀ for one row h; terms with a zero coefficient are skipped so an infinite variance of a state the row does
    // not read (a diffuse component) does not turn the result into NaN.
    private static double QuadraticForm(ReadOnlySpan<double> h, ReadOnlySpan<double> p, int n)
    {
        var s = 0.0;
        for (var a = 0; a < n; a++)
        {
            if (h[a] == 0.0)
            {
                continue;
            }

            for (var b = 0; b < n; b++)
            {
                if (h[b] != 0.0)
                {
                    s += h[a] * p[(a * n) + b] * h[b];
                }
            }
        }

        return s;
    }
}
