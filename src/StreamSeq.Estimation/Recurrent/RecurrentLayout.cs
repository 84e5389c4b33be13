using System.Runtime.CompilerServices;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// How observations and controls enter a recurrent network and how its head output becomes the predictive
/// distribution of the next observation: the state-space reading of an autoregressive net.
/// </summary>
/// <remarks>
/// <para><b>Input.</b> x_t = [(y_{t-1} − μ_y) ⊘ s_y, (u_t − μ_u) ⊘ s_u]: the previous observation (m values) then the
/// control u_t (<see cref="ControlDimension"/> values), each normalised by <see cref="ObservationMean"/> μ_y,
/// <see cref="ObservationScale"/> s_y, <see cref="ControlMean"/> μ_u and <see cref="ControlScale"/> s_u. Before the
/// first observation y_0 is <see cref="InitialObservation"/> (default μ_y, i.e. a zero input). A missing component of
/// y_{t-1} is replaced by the model's own predicted mean for it; a missing control component enters as 0 (its
/// mean).</para>
/// <para><b>Head.</b> The raw head output u (normalised units) gives the predictive N(ŷ, Σ) of y_t:
/// ŷ = μ_y + s_y ⊙ u[0..m) and Σ = D Σ_u D with D = diag(s_y), where Σ_u comes from u[m..) as
/// <see cref="GaussianHead{T}"/> defines it (<see cref="CovarianceForm"/>). A point head emits only u[0..m) and
/// Σ = diag(<see cref="PointVariance"/>), given in observation units. A net trained on normalised data therefore
/// predicts in normalised units, and the layout maps both ways.</para>
/// </remarks>
public sealed class RecurrentLayout
{
    private const double Log2Pi = 1.8378770664093453;
    private readonly double[] observationMean;
    private readonly double[] observationScale;
    private readonly double[] controlMean;
    private readonly double[] controlScale;
    private readonly double[] initialObservation;
    private double[] initialState = [];
    private readonly double[] pointStandardDeviation;
    private readonly double[] pointVariance;

    private RecurrentLayout(RecurrentLayout other)
    {
        ObservationDimension = other.ObservationDimension;
        ControlDimension = other.ControlDimension;
        Head = other.Head;
        CovarianceForm = other.CovarianceForm;
        HeadOutputSize = other.HeadOutputSize;
        observationMean = other.observationMean;
        observationScale = other.observationScale;
        controlMean = other.controlMean;
        controlScale = other.controlScale;
        initialObservation = other.initialObservation;
        pointStandardDeviation = other.pointStandardDeviation;
        pointVariance = other.pointVariance;
        initialState = other.initialState;
        InitialObservationFromFirstReading = other.InitialObservationFromFirstReading;
    }

    /// <summary>Creates and validates a layout; errors name the spec field.</summary>
    /// <param name="observationDimension">m, the length of y.</param>
    /// <param name="controlDimension">Length of the control input u (0 for none).</param>
    /// <param name="head">Gaussian or point head.</param>
    /// <param name="covarianceForm">How a Gaussian head parameterises Σ.</param>
    /// <param name="pointVariance">Predictive variances of a point head (m values, observation units).</param>
    /// <param name="observationMean">μ_y (default zeros).</param>
    /// <param name="observationScale">s_y (default ones).</param>
    /// <param name="controlMean">μ_u (default zeros).</param>
    /// <param name="controlScale">s_u (default ones).</param>
    /// <param name="initialObservation">y_0 (default μ_y).</param>
    public RecurrentLayout(
        int observationDimension,
        int controlDimension = 0,
        RecurrentHeadType head = RecurrentHeadType.Gaussian,
        GaussianCovarianceForm covarianceForm = GaussianCovarianceForm.DiagonalLogVariance,
        double[]? pointVariance = null,
        double[]? observationMean = null,
        double[]? observationScale = null,
        double[]? controlMean = null,
        double[]? controlScale = null,
        double[]? initialObservation = null)
    {
        var m = observationDimension;
        var c = controlDimension;
        if (m < 1)
        {
            throw new ModelValidationException("inputSize", $"leaves {m} inputs for the observation; the observation needs at least one (inputSize = observation dimension + controlDimension).");
        }

        if (c < 0)
        {
            throw new ModelValidationException("controlDimension", $"must be 0 or positive, got {c}.");
        }

        if (!Enum.IsDefined(head))
        {
            throw new ModelValidationException("head.type", $"unknown head type {head}.");
        }

        if (!Enum.IsDefined(covarianceForm))
        {
            throw new ModelValidationException("head.covariance", $"unknown covariance form {covarianceForm}.");
        }

        ObservationDimension = m;
        ControlDimension = c;
        Head = head;
        CovarianceForm = covarianceForm;
        this.observationMean = Vector("normalization.mean", observationMean, m, 0.0, positive: false);
        this.observationScale = Vector("normalization.scale", observationScale, m, 1.0, positive: true);
        this.controlMean = Vector("controlNormalization.mean", controlMean, c, 0.0, positive: false);
        this.controlScale = Vector("controlNormalization.scale", controlScale, c, 1.0, positive: true);
        this.initialObservation = initialObservation is null
            ? (double[])this.observationMean.Clone()
            : Vector("initialObservation", initialObservation, m, 0.0, positive: false);
        if (head == RecurrentHeadType.Point)
        {
            var variance = Vector("head.variance", pointVariance ?? throw new ModelValidationException("head.variance", "is required for a point head (the predictive variance, a number or one per observed component)."), m, 1.0, positive: true);
            this.pointVariance = variance;
            pointStandardDeviation = [.. variance.Select(Math.Sqrt)];
            HeadOutputSize = m;
        }
        else
        {
            pointStandardDeviation = [];
            this.pointVariance = [];
            HeadOutputSize = m + (covarianceForm == GaussianCovarianceForm.DiagonalLogVariance ? m : m * (m + 1) / 2);
        }
    }

    /// <summary>Observation dimension m.</summary>
    public int ObservationDimension { get; }

    /// <summary>Control dimension.</summary>
    public int ControlDimension { get; }

    /// <summary>Length of the network input: m + <see cref="ControlDimension"/>.</summary>
    public int InputSize => ObservationDimension + ControlDimension;

    /// <summary>Gaussian or point head.</summary>
    public RecurrentHeadType Head { get; }

    /// <summary>The Gaussian head's covariance parameterisation.</summary>
    public GaussianCovarianceForm CovarianceForm { get; }

    /// <summary>Length of the raw head output the network must produce.</summary>
    public int HeadOutputSize { get; }

    /// <summary>μ_y.</summary>
    public ReadOnlySpan<double> ObservationMean => observationMean;

    /// <summary>s_y.</summary>
    public ReadOnlySpan<double> ObservationScale => observationScale;

    /// <summary>μ_u.</summary>
    public ReadOnlySpan<double> ControlMean => controlMean;

    /// <summary>s_u.</summary>
    public ReadOnlySpan<double> ControlScale => controlScale;

    /// <summary>y_0, the observation assumed before the first one.</summary>
    public ReadOnlySpan<double> InitialObservation => initialObservation;

    /// <summary>Predictive variances of a point head (empty for a Gaussian head).</summary>
    public ReadOnlySpan<double> PointVariance => pointVariance;

    /// <summary>
    /// True when each stream takes y_0 from its own first reading (<c>"initialObservation": "first"</c>) instead of
    /// <see cref="InitialObservation"/>: the first reading then only conditions the net and is not scored.
    /// </summary>
    public bool InitialObservationFromFirstReading { get; private init; }

    /// <summary>
    /// The network state a stream starts from (h_0 and c_0 of every layer, in the backend's logical layout), or empty
    /// for the zero state.
    /// </summary>
    public ReadOnlySpan<double> InitialState => initialState;

    /// <summary>A copy whose streams take y_0 from their first reading (see
    /// <see cref="InitialObservationFromFirstReading"/>).</summary>
    public RecurrentLayout WithInitialObservationFromFirstReading()
    {
        return new RecurrentLayout(this) { InitialObservationFromFirstReading = true };
    }

    /// <summary>A copy whose streams start from the network state <paramref name="state"/> (h_0, c_0) instead of
    /// zeros.</summary>
    /// <param name="state">The logical state, every value finite.</param>
    public RecurrentLayout WithInitialState(ReadOnlySpan<double> state)
    {
        foreach (var v in state)
        {
            if (!double.IsFinite(v))
            {
                throw new ModelValidationException("initialHidden", "must hold finite numbers only.");
            }
        }

        var copy = new RecurrentLayout(this);
        copy.initialState = state.ToArray();
        return copy;
    }

    /// <summary>Writes the initial network state into a stream's storage (zeros unless
    /// <see cref="InitialState"/> is set).</summary>
    public void WriteInitialState(IRecurrentBackend backend, Span<double> storage)
    {
        ArgumentNullException.ThrowIfNull(backend);
        storage.Clear();
        if (initialState.Length > 0)
        {
            backend.WriteState(initialState, storage);
        }
    }

    /// <summary>Writes x_t from the previous (completed) observation and the control input.</summary>
    /// <param name="previous">y_{t-1} in observation units, every component finite.</param>
    /// <param name="control">u_t (may be empty or hold NaN for missing components).</param>
    /// <param name="input">Receives x_t, <see cref="InputSize"/> values.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void BuildInput(ReadOnlySpan<double> previous, ReadOnlySpan<double> control, Span<double> input)
    {
        var m = ObservationDimension;
        for (var j = 0; j < m; j++)
        {
            input[j] = (previous[j] - observationMean[j]) / observationScale[j];
        }

        for (var k = 0; k < ControlDimension; k++)
        {
            var u = k < control.Length ? control[k] : double.NaN;
            input[m + k] = double.IsFinite(u) ? (u - controlMean[k]) / controlScale[k] : 0.0;
        }
    }

    /// <summary>
    /// Turns a raw head output into the predictive mean ŷ and the lower-triangular factor L of Σ = L Lᵀ, both in
    /// observation units. Returns false when a value is not finite or L has a non-positive diagonal.
    /// </summary>
    /// <param name="raw">u, <see cref="HeadOutputSize"/> values.</param>
    /// <param name="mean">Receives ŷ (m values).</param>
    /// <param name="factor">Receives L (m×m row-major, zeros above the diagonal).</param>
    public bool Moments(ReadOnlySpan<double> raw, Span<double> mean, Span<double> factor)
    {
        var m = ObservationDimension;
        factor[..(m * m)].Clear();
        var ok = true;
        for (var j = 0; j < m; j++)
        {
            mean[j] = observationMean[j] + (observationScale[j] * raw[j]);
            ok &= double.IsFinite(mean[j]);
        }

        if (Head == RecurrentHeadType.Point)
        {
            for (var j = 0; j < m; j++)
            {
                factor[(j * m) + j] = pointStandardDeviation[j];
            }

            return ok;
        }

        var p = raw[m..];
        if (CovarianceForm == GaussianCovarianceForm.DiagonalLogVariance)
        {
            for (var j = 0; j < m; j++)
            {
                var d = observationScale[j] * Math.Exp(0.5 * p[j]);
                factor[(j * m) + j] = d;
                ok &= d > 0.0 && double.IsFinite(d);
            }

            return ok;
        }

        var k = 0;
        for (var r = 0; r < m; r++)
        {
            for (var c = 0; c <= r; c++)
            {
                var v = p[k++];
                if (r == c)
                {
                    v = CovarianceForm == GaussianCovarianceForm.CholeskyExp ? Math.Exp(v) : Softplus(v);
                    ok &= v > 0.0;
                }

                v *= observationScale[r];
                factor[(r * m) + c] = v;
                ok &= double.IsFinite(v);
            }
        }

        return ok;
    }

    /// <summary>Writes Σ = L Lᵀ (m×m).</summary>
    public void Covariance(ReadOnlySpan<double> factor, Span<double> covariance)
    {
        var m = ObservationDimension;
        for (var r = 0; r < m; r++)
        {
            for (var c = 0; c <= r; c++)
            {
                var s = 0.0;
                for (var k = 0; k <= c; k++)
                {
                    s += factor[(r * m) + k] * factor[(c * m) + k];
                }

                covariance[(r * m) + c] = s;
                covariance[(c * m) + r] = s;
            }
        }
    }

    /// <summary>
    /// log N(y_o; ŷ_o, Σ_oo) over the finite components o of <paramref name="observation"/>, with the normalised
    /// innovation squared v' Σ_oo⁻¹ v and the number of observed components. NaN when nothing is observed.
    /// </summary>
    [SkipLocalsInit]
    public double LogDensity(ReadOnlySpan<double> mean, ReadOnlySpan<double> factor, ReadOnlySpan<double> observation, out double normalizedInnovationSquared, out int observed)
    {
        var m = ObservationDimension;
        Span<int> rows = m <= 64 ? stackalloc int[m] : new int[m];
        observed = 0;
        for (var j = 0; j < m; j++)
        {
            if (double.IsFinite(observation[j]))
            {
                rows[observed++] = j;
            }
        }

        normalizedInnovationSquared = double.NaN;
        if (observed == 0)
        {
            return double.NaN;
        }

        var k = observed;
        Span<double> z = k <= 64 ? stackalloc double[k] : new double[k];
        for (var a = 0; a < k; a++)
        {
            z[a] = observation[rows[a]] - mean[rows[a]];
        }

        var own = k < m ? (k * k <= 1024 ? stackalloc double[k * k] : new double[k * k]) : default;
        scoped ReadOnlySpan<double> l;
        if (k == m)
        {
            l = factor;
        }
        else
        {
            for (var a = 0; a < k; a++)
            {
                for (var b = 0; b <= a; b++)
                {
                    var ra = rows[a];
                    var rb = rows[b];
                    var s = 0.0;
                    for (var q = 0; q <= Math.Min(ra, rb); q++)
                    {
                        s += factor[(ra * m) + q] * factor[(rb * m) + q];
                    }

                    own[(a * k) + b] = s;
                    own[(b * k) + a] = s;
                }
            }

            if (!Dense.Cholesky(own, k))
            {
                observed = 0;
                return double.NaN;
            }

            l = own;
        }

        var logDet = 0.0;
        var quadratic = 0.0;
        for (var a = 0; a < k; a++)
        {
            var s = z[a];
            for (var b = 0; b < a; b++)
            {
                s -= l[(a * k) + b] * z[b];
            }

            var d = l[(a * k) + a];
            z[a] = s / d;
            quadratic += z[a] * z[a];
            logDet += Math.Log(d);
        }

        normalizedInnovationSquared = quadratic;
        return -(0.5 * ((k * Log2Pi) + quadratic)) - logDet;
    }

    internal static double Softplus(double x) => Math.Max(x, 0.0) + Math.Log(1.0 + Math.Exp(-Math.Abs(x)));

    private static double[] Vector(string field, double[]? values, int length, double fallback, bool positive)
    {
        if (values is null)
        {
            return [.. Enumerable.Repeat(fallback, length)];
        }

        if (values.Length == 1 && length > 1)
        {
            values = [.. Enumerable.Repeat(values[0], length)];
        }

        if (values.Length != length)
        {
            throw new ModelValidationException(field, $"must have {length} entries, got {values.Length}.");
        }

        for (var i = 0; i < length; i++)
        {
            if (!double.IsFinite(values[i]) || (positive && !(values[i] > 0.0)))
            {
                throw new ModelValidationException($"{field}[{i}]", $"must be {(positive ? "positive and " : string.Empty)}finite, got {values[i]}.");
            }
        }

        return (double[])values.Clone();
    }
}
