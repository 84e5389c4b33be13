using System.Text.Json.Nodes;
using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Discrete;

/// <summary>Univariate Gaussian emissions: y | s = k ~ N(μ_k, σ²_k).</summary>
/// <remarks>μ_k is <see cref="Means"/> and σ²_k <see cref="Variances"/> (variances, not standard deviations).
/// The Baum–Welch M-step is μ_k = Σ_t γ_t(k) y_t / Σ_t γ_t(k) and σ²_k = Σ_t γ_t(k) (y_t − μ_k)² / Σ_t γ_t(k) over
/// observed steps; a variance that would fall below <see cref="VarianceFloor"/> is held there.</remarks>
public sealed class GaussianEmission : HmmEmission
{
    /// <summary>Smallest variance the M-step produces (a state fitted to one point would otherwise collapse).</summary>
    public const double VarianceFloor = 1e-10;

    private const double Log2Pi = 1.8378770664093453;
    private readonly double[] means;
    private readonly double[] variances;
    private readonly double[] inverseVariances;
    private readonly double[] logNormalizers;

    /// <summary>Creates and validates the emissions (errors name <c>means</c> / <c>variances</c>).</summary>
    public GaussianEmission(ReadOnlySpan<double> means, ReadOnlySpan<double> variances)
        : base(means.Length, 1)
    {
        if (means.Length == 0)
        {
            throw new ModelValidationException("means", "needs one entry per hidden state.");
        }

        if (variances.Length != means.Length)
        {
            throw new ModelValidationException("variances", $"must have {means.Length} entries (one per state, like means), got {variances.Length}.");
        }

        for (var k = 0; k < means.Length; k++)
        {
            if (!double.IsFinite(means[k]))
            {
                throw new ModelValidationException($"means[{k}]", $"must be a finite number, got {means[k]}.");
            }

            if (!(variances[k] > 0.0) || !double.IsFinite(variances[k]))
            {
                throw new ModelValidationException($"variances[{k}]", $"must be a positive finite variance, got {variances[k]}.");
            }
        }

        this.means = means.ToArray();
        this.variances = variances.ToArray();
        inverseVariances = new double[means.Length];
        logNormalizers = new double[means.Length];
        for (var k = 0; k < means.Length; k++)
        {
            inverseVariances[k] = 1.0 / variances[k];
            logNormalizers[k] = -0.5 * (Log2Pi + Math.Log(variances[k]));
        }
    }

    /// <inheritdoc />
    public override string Type => "gaussian";

    /// <inheritdoc />
    public override IReadOnlyList<string> ParameterNames { get; } = ["means", "variances"];

    /// <summary>μ_k.</summary>
    public ReadOnlySpan<double> Means => means;

    /// <summary>σ²_k.</summary>
    public ReadOnlySpan<double> Variances => variances;

    /// <summary>1/σ²_k, as the log-density uses it.</summary>
    internal ReadOnlySpan<double> InverseVariances => inverseVariances;

    /// <summary>−½ log(2π σ²_k), as the log-density uses it.</summary>
    internal ReadOnlySpan<double> LogNormalizers => logNormalizers;

    /// <inheritdoc />
    public override double LogDensity(int state, ReadOnlySpan<double> observation)
    {
        var y = observation[0];
        if (!double.IsFinite(y))
        {
            return 0.0;
        }

        var d = y - means[state];
        return logNormalizers[state] - (0.5 * d * d * inverseVariances[state]);
    }

    /// <inheritdoc />
    public override void LogDensities(ReadOnlySpan<double> observation, Span<double> logDensities)
    {
        var y = observation[0];
        var mu = means.AsSpan();
        var iv = inverseVariances.AsSpan(0, mu.Length);
        var c = logNormalizers.AsSpan(0, mu.Length);
        var output = logDensities[..mu.Length];
        for (var k = 0; k < mu.Length; k++)
        {
            var d = y - mu[k];
            output[k] = c[k] - (0.5 * d * d * iv[k]);
        }
    }

    /// <inheritdoc />
    public override void Moments(int state, Span<double> mean, Span<double> covariance)
    {
        mean[0] = means[state];
        covariance[0] = variances[state];
    }

    /// <inheritdoc />
    internal override int StatisticsLength => 3 * StateCount;

    /// <inheritdoc />
    internal override void Accumulate(Span<double> statistics, ReadOnlySpan<double> observation, ReadOnlySpan<double> stateWeights)
    {
        var y = observation[0];
        if (!double.IsFinite(y))
        {
            return;
        }

        for (var k = 0; k < StateCount; k++)
        {
            // Centred on the current mean so the variance needs no large-number cancellation.
            var g = stateWeights[k];
            var d = y - means[k];
            statistics[3 * k] += g;
            statistics[(3 * k) + 1] += g * d;
            statistics[(3 * k) + 2] += g * d * d;
        }
    }

    /// <inheritdoc />
    internal override HmmEmission Maximize(ReadOnlySpan<double> statistics, IReadOnlySet<string> parameters)
    {
        var fitMeans = parameters.Contains("means");
        var fitVariances = parameters.Contains("variances");
        var mu = means.ToArray();
        var v = variances.ToArray();
        for (var k = 0; k < StateCount; k++)
        {
            var w = statistics[3 * k];
            if (!(w > 0.0))
            {
                continue;
            }

            var shift = statistics[(3 * k) + 1] / w;
            var second = statistics[(3 * k) + 2] / w;
            if (fitMeans)
            {
                mu[k] = means[k] + shift;
            }

            if (fitVariances)
            {
                v[k] = Math.Max(fitMeans ? second - (shift * shift) : second, VarianceFloor);
            }
        }

        return new GaussianEmission(mu, v);
    }

    /// <inheritdoc />
    internal override void WriteSpec(JsonObject emission)
    {
        emission["type"] = Type;
        emission["means"] = ToJson(means);
        emission["variances"] = ToJson(variances);
    }
}
