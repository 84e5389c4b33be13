using System.Numerics;
using System.Runtime.CompilerServices;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// A Gaussian read-out: a linear layer maps the hidden vector to the mean and covariance parameters of the
/// predictive distribution N(μ, Σ) of the next observation y, and evaluates log N(y; μ, Σ).
/// </summary>
/// <typeparam name="T">The floating-point type (<see cref="float"/> or <see cref="double"/>).</typeparam>
/// <remarks>
/// <para>
/// The raw output u = W h + b (W = <c>{prefix}.weight</c>, b = <c>{prefix}.bias</c>) has <see cref="OutputSize"/>
/// values: the mean μ = u[0..m), then the covariance parameters u[m..):
/// </para>
/// <list type="bullet">
/// <item><see cref="GaussianCovarianceForm.DiagonalLogVariance"/>: m log-variances s, Σ = diag(exp(s)).</item>
/// <item><see cref="GaussianCovarianceForm.CholeskyExp"/> / <see cref="GaussianCovarianceForm.CholeskySoftplus"/>:
/// the m(m+1)/2 entries of a lower-triangular L in row order (L₀₀, L₁₀, L₁₁, L₂₀, …), each diagonal entry through
/// exp or softplus so it is positive, and Σ = L Lᵀ.</item>
/// </list>
/// <para>
/// log N(y; μ, Σ) = −½ m log 2π − Σ_j log L_jj − ½ ‖L⁻¹(y − μ)‖² (L = diag(exp(s/2)) in the diagonal form).
/// Components of y that are NaN count as missing: the density is then that of the observed components under their
/// marginal distribution, and it is 0 (log 1) when every component is missing.
/// </para>
/// </remarks>
public sealed class GaussianHead<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int StackLimit = 1024;
    private readonly LinearHead<T> linear;

    /// <summary>Initializes a new instance of the <see cref="GaussianHead{T}"/> class from PyTorch-named weights.</summary>
    /// <param name="weights">A dictionary holding <c>{prefix}.weight</c> and <c>{prefix}.bias</c>.</param>
    /// <param name="inputSize">The input width (the network's hidden size).</param>
    /// <param name="observationSize">The dimension m of the observation.</param>
    /// <param name="form">The covariance parameterisation.</param>
    /// <param name="prefix">The module name in front of <c>.weight</c> and <c>.bias</c>.</param>
    /// <exception cref="InvalidDataException">A tensor is missing or misshaped; the message names it and the expected
    /// shape.</exception>
    public GaussianHead(StateDictionary weights, int inputSize, int observationSize, GaussianCovarianceForm form, string prefix = "head")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(observationSize);
        if (!Enum.IsDefined(form))
        {
            throw new ArgumentOutOfRangeException(nameof(form), form, "Unknown covariance form.");
        }

        ObservationSize = observationSize;
        Form = form;
        var parameters = form == GaussianCovarianceForm.DiagonalLogVariance
            ? observationSize
            : observationSize * (observationSize + 1) / 2;
        linear = new LinearHead<T>(weights, inputSize, observationSize + parameters, prefix);
    }

    /// <summary>Gets the dimension m of the observation.</summary>
    public int ObservationSize { get; }

    /// <summary>Gets the covariance parameterisation.</summary>
    public GaussianCovarianceForm Form { get; }

    /// <summary>Gets the input width.</summary>
    public int InputSize => linear.InputSize;

    /// <summary>Gets the length of the raw output u: m means plus the covariance parameters.</summary>
    public int OutputSize => linear.OutputSize;

    /// <summary>Computes the raw output u = W h + b.</summary>
    /// <param name="input">h (<see cref="InputSize"/> values).</param>
    /// <param name="output">Receives u (<see cref="OutputSize"/> values).</param>
    public void Evaluate(ReadOnlySpan<T> input, Span<T> output) => linear.Evaluate(input, output);

    /// <summary>Computes raw outputs for a batch of inputs (see <see cref="LinearHead{T}.EvaluateBatch"/>).</summary>
    /// <param name="batchSize">The number of inputs B.</param>
    /// <param name="inputs">Input b starts at b·<paramref name="inputStride"/>.</param>
    /// <param name="inputStride">The distance between consecutive inputs.</param>
    /// <param name="outputs">Receives B raw outputs back to back.</param>
    public void EvaluateBatch(int batchSize, ReadOnlySpan<T> inputs, int inputStride, Span<T> outputs) =>
        linear.EvaluateBatch(batchSize, inputs, inputStride, outputs);

    /// <summary>Returns the mean μ within a raw output.</summary>
    /// <param name="output">A raw output u.</param>
    /// <returns>The first m values of u.</returns>
    public ReadOnlySpan<T> GetMean(ReadOnlySpan<T> output)
    {
        CheckOutput(output);
        return output[..ObservationSize];
    }

    /// <summary>Writes the lower-triangular factor L with Σ = L Lᵀ as an m × m row-major matrix (zeros above the
    /// diagonal).</summary>
    /// <param name="output">A raw output u.</param>
    /// <param name="factor">Receives m² values.</param>
    public void GetCholeskyFactor(ReadOnlySpan<T> output, Span<T> factor)
    {
        CheckOutput(output);
        var m = ObservationSize;
        if (factor.Length != m * m)
        {
            throw new ArgumentException($"The factor holds {factor.Length} values; an {m}×{m} matrix needs {m * m}.", nameof(factor));
        }

        FillFactor(output[m..], factor);
    }

    /// <summary>Writes the covariance Σ = L Lᵀ as an m × m row-major matrix.</summary>
    /// <param name="output">A raw output u.</param>
    /// <param name="covariance">Receives m² values.</param>
    [SkipLocalsInit]
    public void GetCovariance(ReadOnlySpan<T> output, Span<T> covariance)
    {
        CheckOutput(output);
        var m = ObservationSize;
        if (covariance.Length != m * m)
        {
            throw new ArgumentException($"The covariance holds {covariance.Length} values; an {m}×{m} matrix needs {m * m}.", nameof(covariance));
        }

        var l = m * m <= StackLimit ? stackalloc T[m * m] : new T[m * m];
        FillFactor(output[m..], l);
        for (var r = 0; r < m; r++)
        {
            for (var c = 0; c <= r; c++)
            {
                var s = T.Zero;
                for (var k = 0; k <= c; k++)
                {
                    s += l[(r * m) + k] * l[(c * m) + k];
                }

                covariance[(r * m) + c] = s;
                covariance[(c * m) + r] = s;
            }
        }
    }

    /// <summary>Evaluates log N(y; μ, Σ) for a raw output u, marginalising NaN (missing) components of y.</summary>
    /// <param name="output">A raw output u.</param>
    /// <param name="observation">y (m values; NaN = missing).</param>
    /// <returns>The natural log-density of the observed components.</returns>
    [SkipLocalsInit]
    public T LogDensity(ReadOnlySpan<T> output, ReadOnlySpan<T> observation)
    {
        CheckOutput(output);
        var m = ObservationSize;
        if (observation.Length != m)
        {
            throw new ArgumentException($"The observation has {observation.Length} values; the head models {m}.", nameof(observation));
        }

        var half = T.CreateChecked(0.5);
        var log2Pi = T.CreateChecked(Math.Log(2 * Math.PI));
        var mean = output[..m];
        var parameters = output[m..];
        if (Form == GaussianCovarianceForm.DiagonalLogVariance)
        {
            var sum = T.Zero;
            for (var j = 0; j < m; j++)
            {
                if (T.IsNaN(observation[j]))
                {
                    continue;
                }

                var d = observation[j] - mean[j];
                sum -= half * (log2Pi + parameters[j] + (d * d * T.Exp(-parameters[j])));
            }

            return sum;
        }

        var observed = 0;
        var complete = true;
        for (var j = 0; j < m; j++)
        {
            if (T.IsNaN(observation[j]))
            {
                complete = false;
            }
            else
            {
                observed++;
            }
        }

        if (observed == 0)
        {
            return T.Zero;
        }

        var l = m * m <= StackLimit ? stackalloc T[m * m] : new T[m * m];
        var residual = m <= StackLimit ? stackalloc T[m] : new T[m];
        var n = observed;
        var p = 0;
        for (var j = 0; j < m; j++)
        {
            if (!T.IsNaN(observation[j]))
            {
                residual[p++] = observation[j] - mean[j];
            }
        }

        var logDet = T.Zero;
        if (complete)
        {
            FillFactor(parameters, l);
            for (var j = 0; j < m; j++)
            {
                logDet += LogDiagonal(parameters[Packed(j, j)]);
            }
        }
        else
        {
            // Marginal covariance of the observed components, then its Cholesky factor (both n × n in l).
            var full = m * m <= StackLimit ? stackalloc T[m * m] : new T[m * m];
            FillFactor(parameters, full);
            var rows = m <= StackLimit ? stackalloc int[m] : new int[m];
            p = 0;
            for (var j = 0; j < m; j++)
            {
                if (!T.IsNaN(observation[j]))
                {
                    rows[p++] = j;
                }
            }

            for (var a = 0; a < n; a++)
            {
                for (var b = 0; b <= a; b++)
                {
                    var s = T.Zero;
                    var ra = rows[a];
                    var rb = rows[b];
                    for (var k = 0; k <= int.Min(ra, rb); k++)
                    {
                        s += full[(ra * m) + k] * full[(rb * m) + k];
                    }

                    l[(a * n) + b] = s;
                }
            }

            for (var a = 0; a < n; a++)
            {
                for (var b = 0; b <= a; b++)
                {
                    var s = l[(a * n) + b];
                    for (var k = 0; k < b; k++)
                    {
                        s -= l[(a * n) + k] * l[(b * n) + k];
                    }

                    if (a == b)
                    {
                        l[(a * n) + a] = T.Sqrt(s);
                        logDet += T.Log(l[(a * n) + a]);
                    }
                    else
                    {
                        l[(a * n) + b] = s / l[(b * n) + b];
                    }
                }
            }
        }

        // Forward substitution L z = residual, in place.
        var quadratic = T.Zero;
        for (var a = 0; a < n; a++)
        {
            var s = residual[a];
            for (var k = 0; k < a; k++)
            {
                s -= l[(a * n) + k] * residual[k];
            }

            residual[a] = s / l[(a * n) + a];
            quadratic += residual[a] * residual[a];
        }

        return -(half * T.CreateChecked(n) * log2Pi) - logDet - (half * quadratic);
    }

    private static int Packed(int row, int column) => (row * (row + 1) / 2) + column;

    private T Diagonal(T raw) => Form switch
    {
        GaussianCovarianceForm.CholeskyExp => T.Exp(raw),
        _ => Softplus(raw),
    };

    private T LogDiagonal(T raw) => Form == GaussianCovarianceForm.CholeskyExp ? raw : T.Log(Softplus(raw));

    private static T Softplus(T x) => T.Max(x, T.Zero) + T.LogP1(T.Exp(-T.Abs(x)));

    private void FillFactor(ReadOnlySpan<T> parameters, Span<T> factor)
    {
        var m = ObservationSize;
        factor.Clear();
        if (Form == GaussianCovarianceForm.DiagonalLogVariance)
        {
            var half = T.CreateChecked(0.5);
            for (var j = 0; j < m; j++)
            {
                factor[(j * m) + j] = T.Exp(half * parameters[j]);
            }

            return;
        }

        for (var r = 0; r < m; r++)
        {
            for (var c = 0; c < r; c++)
            {
                factor[(r * m) + c] = parameters[Packed(r, c)];
            }

            factor[(r * m) + r] = Diagonal(parameters[Packed(r, r)]);
        }
    }

    private void CheckOutput(ReadOnlySpan<T> output)
    {
        if (output.Length != OutputSize)
        {
            throw new ArgumentException($"The raw output has {output.Length} values; the head produces {OutputSize}.", nameof(output));
        }
    }
}
