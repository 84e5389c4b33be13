using System.Text.Json.Nodes;
using MathNet.Numerics;
using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Discrete;

/// <summary>Poisson emissions for counts: P(y | s = k) = λ_k^y e^{−λ_k} / y!.</summary>
/// <remarks>λ_k is <see cref="Rates"/>. Observations must be non-negative integers; others are outside the support
/// (density 0 in every state) and the filter scores them as impossible readings (skipped, log-likelihood −∞). Baum–Welch: λ_k = Σ_t γ_t(k) y_t / Σ_t γ_t(k), held at or above
/// <see cref="RateFloor"/> so the fitted spec stays valid.</remarks>
public sealed class PoissonEmission : HmmEmission
{
    /// <summary>Smallest rate the M-step produces.</summary>
    public const double RateFloor = 1e-10;

    private readonly double[] rates;
    private readonly double[] logRates;

    /// <summary>Creates and validates the emissions (errors name <c>rates[k]</c>).</summary>
    public PoissonEmission(ReadOnlySpan<double> rates)
        : base(rates.Length, 1)
    {
        if (rates.Length == 0)
        {
            throw new ModelValidationException("rates", "needs one rate per hidden state.");
        }

        for (var k = 0; k < rates.Length; k++)
        {
            if (!(rates[k] > 0.0) || !double.IsFinite(rates[k]))
            {
                throw new ModelValidationException($"rates[{k}]", $"must be a positive finite rate, got {rates[k]}.");
            }
        }

        this.rates = rates.ToArray();
        logRates = new double[rates.Length];
        for (var k = 0; k < rates.Length; k++)
        {
            logRates[k] = Math.Log(rates[k]);
        }
    }

    /// <inheritdoc />
    public override string Type => "poisson";

    /// <inheritdoc />
    public override IReadOnlyList<string> ParameterNames { get; } = ["rates"];

    /// <summary>λ_k.</summary>
    public ReadOnlySpan<double> Rates => rates;

    /// <inheritdoc />
    public override bool Accepts(ReadOnlySpan<double> observation)
    {
        var y = observation[0];
        return !double.IsFinite(y) || InSupport(y);
    }

    /// <inheritdoc />
    /// <remarks>−∞ for a negative or fractional count: the Γ-function form of y! would otherwise give such a reading
    /// a finite density.</remarks>
    public override double LogDensity(int state, ReadOnlySpan<double> observation)
    {
        var y = observation[0];
        return !double.IsFinite(y) ? 0.0 : InSupport(y) ? (y * logRates[state]) - rates[state] - SpecialFunctions.GammaLn(y + 1.0) : double.NegativeInfinity;
    }

    /// <inheritdoc />
    public override void LogDensities(ReadOnlySpan<double> observation, Span<double> logDensities)
    {
        var y = observation[0];
        if (!InSupport(y))
        {
            // As LogDensity: 0 (no term) for a missing reading, −∞ for one outside the support.
            logDensities[..rates.Length].Fill(double.IsFinite(y) ? double.NegativeInfinity : 0.0);
            return;
        }

        var logFactorial = SpecialFunctions.GammaLn(y + 1.0);
        for (var k = 0; k < rates.Length; k++)
        {
            logDensities[k] = (y * logRates[k]) - rates[k] - logFactorial;
        }
    }

    private static bool InSupport(double y) => y >= 0 && y == Math.Floor(y);

    /// <inheritdoc />
    public override void Moments(int state, Span<double> mean, Span<double> covariance)
    {
        mean[0] = rates[state];
        covariance[0] = rates[state];
    }

    /// <inheritdoc />
    internal override int StatisticsLength => 2 * StateCount;

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
            statistics[2 * k] += stateWeights[k];
            statistics[(2 * k) + 1] += stateWeights[k] * y;
        }
    }

    /// <inheritdoc />
    internal override HmmEmission Maximize(ReadOnlySpan<double> statistics, IReadOnlySet<string> parameters)
    {
        if (!parameters.Contains("rates"))
        {
            return this;
        }

        var r = rates.ToArray();
        for (var k = 0; k < StateCount; k++)
        {
            var w = statistics[2 * k];
            if (w > 0.0)
            {
                r[k] = Math.Max(statistics[(2 * k) + 1] / w, RateFloor);
            }
        }

        return new PoissonEmission(r);
    }

    /// <inheritdoc />
    internal override void WriteSpec(JsonObject emission)
    {
        emission["type"] = Type;
        emission["rates"] = ToJson(rates);
    }
}
