using System.Text.Json.Nodes;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Discrete;

/// <summary>Multivariate Gaussian emissions with full covariances: y | s = k ~ N(μ_k, Σ_k), y ∈ ℝ^m.</summary>
/// <remarks>
/// <para>μ_k is row k of <see cref="Means"/> (K×m) and Σ_k block k of <see cref="Covariances"/> (K×m×m, row-major).
/// With some components missing the density is the marginal N(y_o; μ_{k,o}, Σ_{k,oo}) of the observed ones.</para>
/// <para>Baum–Welch with missing components is exact EM: the E-step uses E[y_u | y_o, s = k] and
/// Cov[y_u | y_o, s = k] for the unobserved block u, so μ_k = Σ_t γ_t(k) E[y_t] / Σ_t γ_t(k) and
/// Σ_k = Σ_t γ_t(k) E[(y_t − μ_k)(y_t − μ_k)'] / Σ_t γ_t(k). A covariance that comes out singular gets a small ridge.</para>
/// </remarks>
public sealed class MultivariateGaussianEmission : HmmEmission
{
    private const double Log2Pi = 1.8378770664093453;
    private readonly double[] means;
    private readonly double[] covariances;
    private readonly double[] choleskyFactors;
    private readonly double[] logNormalizers;
    private readonly int m;

    /// <summary>Creates and validates the emissions (errors name <c>means</c> / <c>covariances[k]</c>).</summary>
    /// <param name="means">K×m, row-major.</param>
    /// <param name="covariances">K blocks of m×m, row-major.</param>
    /// <param name="dimension">m.</param>
    public MultivariateGaussianEmission(ReadOnlySpan<double> means, ReadOnlySpan<double> covariances, int dimension)
        : base(dimension > 0 ? means.Length / dimension : 0, dimension)
    {
        if (dimension < 1 || means.Length == 0 || means.Length % dimension != 0)
        {
            throw new ModelValidationException("means", $"must be K rows of {dimension} numbers (one row per state), got {means.Length} numbers.");
        }

        m = dimension;
        var k = means.Length / m;
        Validate.Finite("means", means);
        if (covariances.Length != k * m * m)
        {
            throw new ModelValidationException("covariances", $"must be {k} matrices of {m}x{m} (one per state), got {covariances.Length} numbers.");
        }

        this.means = means.ToArray();
        this.covariances = covariances.ToArray();
        choleskyFactors = new double[k * m * m];
        logNormalizers = new double[k];
        for (var s = 0; s < k; s++)
        {
            var block = covariances.Slice(s * m * m, m * m);
            Validate.Covariance($"covariances[{s}]", block, m);
            var l = choleskyFactors.AsSpan(s * m * m, m * m);
            block.CopyTo(l);
            if (!Dense.Cholesky(l, m))
            {
                throw new ModelValidationException($"covariances[{s}]", "must be positive definite (it is singular).");
            }

            logNormalizers[s] = -0.5 * ((m * Log2Pi) + Dense.LogDeterminantFromCholesky(l, m));
        }
    }

    /// <inheritdoc />
    public override string Type => "multivariate-gaussian";

    /// <inheritdoc />
    public override IReadOnlyList<string> ParameterNames { get; } = ["means", "covariances"];

    /// <summary>μ (K×m, row-major).</summary>
    public ReadOnlySpan<double> Means => means;

    /// <summary>Σ (K×m×m, row-major).</summary>
    public ReadOnlySpan<double> Covariances => covariances;

    /// <inheritdoc />
    public override double LogDensity(int state, ReadOnlySpan<double> observation)
    {
        var observed = CountObserved(observation[..m]);
        if (observed == 0)
        {
            return 0.0;
        }

        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        double result;
        var mu = means.AsSpan(state * m, m);
        if (observed == m)
        {
            var z = arena.Take(m);
            for (var i = 0; i < m; i++)
            {
                z[i] = observation[i] - mu[i];
            }

            Dense.ForwardSubstitute(choleskyFactors.AsSpan(state * m * m, m * m), m, z);
            var q = 0.0;
            for (var i = 0; i < m; i++)
            {
                q += z[i] * z[i];
            }

            result = logNormalizers[state] - (0.5 * q);
        }
        else
        {
            var sigma = covariances.AsSpan(state * m * m, m * m);
            var l = arena.Take(observed * observed);
            var z = arena.Take(observed);
            var a = 0;
            for (var i = 0; i < m; i++)
            {
                if (!double.IsFinite(observation[i]))
                {
                    continue;
                }

                z[a] = observation[i] - mu[i];
                var b = 0;
                for (var j = 0; j < m; j++)
                {
                    if (double.IsFinite(observation[j]))
                    {
                        l[(a * observed) + b] = sigma[(i * m) + j];
                        b++;
                    }
                }

                a++;
            }

            // A principal block of a positive definite matrix is positive definite.
            Dense.Cholesky(l, observed);
            Dense.ForwardSubstitute(l, observed, z);
            var q = 0.0;
            for (var i = 0; i < observed; i++)
            {
                q += z[i] * z[i];
            }

            result = -0.5 * ((observed * Log2Pi) + Dense.LogDeterminantFromCholesky(l, observed) + q);
        }

        arena.Release(mark);
        return result;
    }

    /// <inheritdoc />
    public override void Moments(int state, Span<double> mean, Span<double> covariance)
    {
        means.AsSpan(state * m, m).CopyTo(mean);
        covariances.AsSpan(state * m * m, m * m).CopyTo(covariance);
    }

    /// <inheritdoc />
    internal override int StatisticsLength => StateCount * (1 + m + (m * m));

    /// <inheritdoc />
    internal override void Accumulate(Span<double> statistics, ReadOnlySpan<double> observation, ReadOnlySpan<double> stateWeights)
    {
        var observed = CountObserved(observation[..m]);
        if (observed == 0)
        {
            return;
        }

        var stride = 1 + m + (m * m);
        var d = new double[m];
        var conditional = new double[m * m];
        for (var k = 0; k < StateCount; k++)
        {
            var g = stateWeights[k];
            if (g == 0.0)
            {
                continue;
            }

            ConditionalDeviation(k, observation, observed, d, conditional);
            var s = statistics.Slice(k * stride, stride);
            s[0] += g;
            for (var i = 0; i < m; i++)
            {
                s[1 + i] += g * d[i];
                for (var j = 0; j < m; j++)
                {
                    s[1 + m + (i * m) + j] += g * ((d[i] * d[j]) + conditional[(i * m) + j]);
                }
            }
        }
    }

    /// <summary>
    /// d = E[y | y_o, s = k] − μ_k and C = Cov[y | y_o, s = k] (zero on observed rows and columns).
    /// </summary>
    private void ConditionalDeviation(int k, ReadOnlySpan<double> y, int observed, Span<double> d, Span<double> conditional)
    {
        var mu = means.AsSpan(k * m, m);
        var sigma = covariances.AsSpan(k * m * m, m * m);
        conditional.Clear();
        if (observed == m)
        {
            for (var i = 0; i < m; i++)
            {
                d[i] = y[i] - mu[i];
            }

            return;
        }

        var o = new List<int>();
        var u = new List<int>();
        for (var i = 0; i < m; i++)
        {
            (double.IsFinite(y[i]) ? o : u).Add(i);
        }

        // Solve Σ_oo X = [y_o − μ_o | Σ_ou].
        var no = o.Count;
        var nu = u.Count;
        var l = new double[no * no];
        var rhs = new double[no * (1 + nu)];
        for (var a = 0; a < no; a++)
        {
            for (var b = 0; b < no; b++)
            {
                l[(a * no) + b] = sigma[(o[a] * m) + o[b]];
            }

            rhs[a * (1 + nu)] = y[o[a]] - mu[o[a]];
            for (var b = 0; b < nu; b++)
            {
                rhs[(a * (1 + nu)) + 1 + b] = sigma[(o[a] * m) + u[b]];
            }
        }

        Dense.Cholesky(l, no);
        Dense.CholeskySolve(l, no, rhs, 1 + nu);
        foreach (var i in o)
        {
            d[i] = y[i] - mu[i];
        }

        for (var b = 0; b < nu; b++)
        {
            var shift = 0.0;
            for (var a = 0; a < no; a++)
            {
                shift += sigma[(u[b] * m) + o[a]] * rhs[a * (1 + nu)];
            }

            d[u[b]] = shift;
            for (var c = 0; c < nu; c++)
            {
                var reduction = 0.0;
                for (var a = 0; a < no; a++)
                {
                    reduction += sigma[(u[b] * m) + o[a]] * rhs[(a * (1 + nu)) + 1 + c];
                }

                conditional[(u[b] * m) + u[c]] = sigma[(u[b] * m) + u[c]] - reduction;
            }
        }
    }

    /// <inheritdoc />
    internal override HmmEmission Maximize(ReadOnlySpan<double> statistics, IReadOnlySet<string> parameters)
    {
        var fitMeans = parameters.Contains("means");
        var fitCovariances = parameters.Contains("covariances");
        var mu = means.ToArray();
        var cov = covariances.ToArray();
        var stride = 1 + m + (m * m);
        for (var k = 0; k < StateCount; k++)
        {
            var s = statistics.Slice(k * stride, stride);
            var w = s[0];
            if (!(w > 0.0))
            {
                continue;
            }

            if (fitMeans)
            {
                for (var i = 0; i < m; i++)
                {
                    mu[(k * m) + i] = means[(k * m) + i] + (s[1 + i] / w);
                }
            }

            if (!fitCovariances)
            {
                continue;
            }

            var block = cov.AsSpan(k * m * m, m * m);
            for (var i = 0; i < m; i++)
            {
                for (var j = 0; j < m; j++)
                {
                    var v = s[1 + m + (i * m) + j] / w;
                    if (fitMeans)
                    {
                        v -= s[1 + i] / w * (s[1 + j] / w);
                    }

                    block[(i * m) + j] = v;
                }
            }

            Dense.Symmetrize(block, m);
            MakePositiveDefinite(block, m);
        }

        return new MultivariateGaussianEmission(mu, cov, m);
    }

    private static void MakePositiveDefinite(Span<double> block, int m)
    {
        var trace = 0.0;
        for (var i = 0; i < m; i++)
        {
            block[(i * m) + i] = Math.Max(block[(i * m) + i], GaussianEmission.VarianceFloor);
            trace += block[(i * m) + i];
        }

        var ridge = 1e-12 * Math.Max(trace / m, 1e-300);
        var l = new double[m * m];
        for (var attempt = 0; attempt < 60; attempt++)
        {
            block.CopyTo(l);
            if (Dense.Cholesky(l, m))
            {
                return;
            }

            for (var i = 0; i < m; i++)
            {
                block[(i * m) + i] += ridge;
            }

            ridge *= 4.0;
        }
    }

    /// <inheritdoc />
    internal override void WriteSpec(JsonObject emission)
    {
        emission["type"] = Type;
        emission["means"] = ToJson(means, StateCount, m);
        var covs = new JsonArray();
        for (var k = 0; k < StateCount; k++)
        {
            covs.Add(ToJson(covariances.AsSpan(k * m * m, m * m), m, m));
        }

        emission["covariances"] = covs;
    }
}
