using System.Text.Json.Nodes;
using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Discrete;

/// <summary>Categorical emissions: y ∈ {0, …, C−1} with P(y = c | s = k) = B_kc.</summary>
/// <remarks>
/// <para>B is <see cref="Probabilities"/> (K×C, rows sum to 1). The observation is the category index written as a
/// number; anything else (a fraction, a negative number, an index ≥ C) is outside the support: its density is 0 in
/// every state, and the filter scores it as an impossible reading (skipped, log-likelihood −∞). The reported moments are those of the index: E[y | k] = Σ_c c B_kc.</para>
/// <para>Baum–Welch: B_kc = Σ_t γ_t(k) [y_t = c] / Σ_t γ_t(k).</para>
/// </remarks>
public sealed class CategoricalEmission : HmmEmission
{
    private const double RowTolerance = 1e-9;
    private readonly double[] probabilities;
    private readonly double[] logProbabilities;

    /// <summary>Creates and validates the emissions (errors name <c>probabilities[k]</c>).</summary>
    /// <param name="probabilities">K×C, row-major.</param>
    /// <param name="categories">C.</param>
    public CategoricalEmission(ReadOnlySpan<double> probabilities, int categories)
        : base(categories > 0 ? probabilities.Length / categories : 0, 1)
    {
        if (categories < 1 || probabilities.Length == 0 || probabilities.Length % categories != 0)
        {
            throw new ModelValidationException("probabilities", $"must be K rows of {categories} probabilities (one row per state), got {probabilities.Length} numbers.");
        }

        CategoryCount = categories;
        for (var k = 0; k < StateCount; k++)
        {
            var row = probabilities.Slice(k * categories, categories);
            var sum = 0.0;
            for (var c = 0; c < categories; c++)
            {
                if (!(row[c] >= 0.0) || row[c] > 1.0)
                {
                    throw new ModelValidationException($"probabilities[{k}][{c}]", $"must be a probability in [0, 1], got {row[c]}.");
                }

                sum += row[c];
            }

            if (Math.Abs(sum - 1.0) > RowTolerance)
            {
                throw new ModelValidationException($"probabilities[{k}]", $"row {k} sums to {sum:R}, not 1 (tolerance {RowTolerance:G}).");
            }
        }

        this.probabilities = probabilities.ToArray();
        logProbabilities = new double[probabilities.Length];
        for (var i = 0; i < probabilities.Length; i++)
        {
            logProbabilities[i] = Math.Log(probabilities[i]);
        }
    }

    /// <inheritdoc />
    public override string Type => "categorical";

    /// <inheritdoc />
    public override IReadOnlyList<string> ParameterNames { get; } = ["probabilities"];

    /// <summary>Number of categories C.</summary>
    public int CategoryCount { get; }

    /// <summary>B (K×C, row-major).</summary>
    public ReadOnlySpan<double> Probabilities => probabilities;

    /// <inheritdoc />
    public override bool Accepts(ReadOnlySpan<double> observation)
    {
        var y = observation[0];
        return !double.IsFinite(y) || InSupport(y);
    }

    /// <inheritdoc />
    /// <remarks>−∞ for a reading outside 0..C−1 or not a whole number: it has probability zero in every state (the
    /// index must not be truncated to a neighbouring category or read from another state's row).</remarks>
    public override double LogDensity(int state, ReadOnlySpan<double> observation)
    {
        var y = observation[0];
        return !double.IsFinite(y) ? 0.0 : InSupport(y) ? logProbabilities[(state * CategoryCount) + (int)y] : double.NegativeInfinity;
    }

    /// <inheritdoc />
    public override void LogDensities(ReadOnlySpan<double> observation, Span<double> logDensities)
    {
        var y = observation[0];
        if (!InSupport(y))
        {
            // As LogDensity: 0 (no term) for a missing reading, −∞ for one outside the support.
            logDensities[..StateCount].Fill(double.IsFinite(y) ? double.NegativeInfinity : 0.0);
            return;
        }

        var c = (int)y;
        for (var k = 0; k < StateCount; k++)
        {
            logDensities[k] = logProbabilities[(k * CategoryCount) + c];
        }
    }

    private bool InSupport(double y) => y >= 0 && y < CategoryCount && y == Math.Floor(y);

    /// <inheritdoc />
    public override void Moments(int state, Span<double> mean, Span<double> covariance)
    {
        // Two passes (the mean, then squared deviations from it): Σ c² p − mean² cancels for a row concentrated on
        // high categories, e.g. mass 1 − 2⁻⁴⁰ on 999 gave variance 0 in place of 9.09e-13.
        var row = probabilities.AsSpan(state * CategoryCount, CategoryCount);
        var first = 0.0;
        for (var c = 0; c < row.Length; c++)
        {
            first += c * row[c];
        }

        var variance = 0.0;
        for (var c = 0; c < row.Length; c++)
        {
            var d = c - first;
            variance += row[c] * (d * d);
        }

        mean[0] = first;
        covariance[0] = variance;
    }

    /// <inheritdoc />
    internal override int StatisticsLength => StateCount * CategoryCount;

    /// <inheritdoc />
    internal override void Accumulate(Span<double> statistics, ReadOnlySpan<double> observation, ReadOnlySpan<double> stateWeights)
    {
        var y = observation[0];
        if (!double.IsFinite(y))
        {
            return;
        }

        var c = (int)y;
        for (var k = 0; k < StateCount; k++)
        {
            statistics[(k * CategoryCount) + c] += stateWeights[k];
        }
    }

    /// <inheritdoc />
    internal override HmmEmission Maximize(ReadOnlySpan<double> statistics, IReadOnlySet<string> parameters)
    {
        var b = probabilities.ToArray();
        if (!parameters.Contains("probabilities"))
        {
            return this;
        }

        for (var k = 0; k < StateCount; k++)
        {
            var row = statistics.Slice(k * CategoryCount, CategoryCount);
            var total = 0.0;
            foreach (var v in row)
            {
                total += v;
            }

            if (!(total > 0.0))
            {
                continue;
            }

            for (var c = 0; c < CategoryCount; c++)
            {
                b[(k * CategoryCount) + c] = row[c] / total;
            }
        }

        return new CategoricalEmission(b, CategoryCount);
    }

    /// <inheritdoc />
    internal override void WriteSpec(JsonObject emission)
    {
        emission["type"] = Type;
        emission["probabilities"] = ToJson(probabilities, StateCount, CategoryCount);
    }
}
