using System.Text.Json.Nodes;

namespace StreamSeq.Estimation.Discrete;

/// <summary>
/// The emission model of a hidden Markov model: the density of an observation y given the hidden state s = k.
/// </summary>
/// <remarks>
/// <para>Densities are evaluated over the observed (finite) components of y; a wholly missing observation has no
/// emission term. <see cref="LogDensity"/> is allocation-free so filters can call it on the hot path.</para>
/// <para>Implementations: <see cref="GaussianEmission"/>, <see cref="MultivariateGaussianEmission"/>,
/// <see cref="CategoricalEmission"/>, <see cref="PoissonEmission"/> and <see cref="StudentTEmission"/>. Each also
/// carries its Baum–Welch M-step (internal), so every emission type can be fitted by expectation-maximisation.</para>
/// </remarks>
public abstract class HmmEmission
{
    private protected HmmEmission(int stateCount, int observationDimension)
    {
        StateCount = stateCount;
        ObservationDimension = observationDimension;
    }

    /// <summary>Number of hidden states K.</summary>
    public int StateCount { get; }

    /// <summary>Observation dimension m.</summary>
    public int ObservationDimension { get; }

    /// <summary>The <c>emission.type</c> value in specs, for example <c>gaussian</c>.</summary>
    public abstract string Type { get; }

    /// <summary>The spec field names of this emission's parameters (what <c>emission.&lt;name&gt;</c> can fit).</summary>
    public abstract IReadOnlyList<string> ParameterNames { get; }

    /// <summary>log p(y | s = <paramref name="state"/>) over the observed components of y (0 when none is observed).</summary>
    /// <returns>The log-density; −∞ when y is impossible in that state.</returns>
    public abstract double LogDensity(int state, ReadOnlySpan<double> observation);

    /// <summary>Writes log p(y | s = k) for every state k (the hot-path form of <see cref="LogDensity"/>).</summary>
    public virtual void LogDensities(ReadOnlySpan<double> observation, Span<double> logDensities)
    {
        for (var k = 0; k < StateCount; k++)
        {
            logDensities[k] = LogDensity(k, observation);
        }
    }

    /// <summary>Mean (m) and covariance (m×m, row-major) of y given s = <paramref name="state"/>.</summary>
    /// <remarks>A moment that does not exist (a Student-t variance with ν ≤ 2) is reported as +∞.</remarks>
    public abstract void Moments(int state, Span<double> mean, Span<double> covariance);

    /// <summary>
    /// True when the observed components lie in the support of the emission (for example a category index in range,
    /// a non-negative integer count). Observations outside it are skipped by the filter and flagged.
    /// </summary>
    public virtual bool Accepts(ReadOnlySpan<double> observation) => true;

    /// <summary>Doubles of sufficient statistics one E-step accumulates.</summary>
    internal abstract int StatisticsLength { get; }

    /// <summary>Adds one observation weighted by the posterior state probabilities γ_t(k).</summary>
    internal abstract void Accumulate(Span<double> statistics, ReadOnlySpan<double> observation, ReadOnlySpan<double> stateWeights);

    /// <summary>The M-step: new parameters from the statistics; fields not in <paramref name="parameters"/> stay fixed.</summary>
    internal abstract HmmEmission Maximize(ReadOnlySpan<double> statistics, IReadOnlySet<string> parameters);

    /// <summary>Writes the <c>type</c> and parameter fields into an <c>emission</c> spec object.</summary>
    internal abstract void WriteSpec(JsonObject emission);

    /// <summary>Number of finite components of y.</summary>
    internal static int CountObserved(ReadOnlySpan<double> y)
    {
        var k = 0;
        foreach (var v in y)
        {
            if (double.IsFinite(v))
            {
                k++;
            }
        }

        return k;
    }

    /// <summary>A JSON array of numbers.</summary>
    internal static JsonArray ToJson(ReadOnlySpan<double> values)
    {
        var a = new JsonArray();
        foreach (var v in values)
        {
            a.Add(v);
        }

        return a;
    }

    /// <summary>A JSON matrix (array of rows) from a row-major block.</summary>
    internal static JsonArray ToJson(ReadOnlySpan<double> values, int rows, int columns)
    {
        var a = new JsonArray();
        for (var i = 0; i < rows; i++)
        {
            a.Add(ToJson(values.Slice(i * columns, columns)));
        }

        return a;
    }
}
