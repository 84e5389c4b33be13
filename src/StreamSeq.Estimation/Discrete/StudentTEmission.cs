using System.Text.Json.Nodes;
using MathNet.Numerics;
using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Discrete;

/// <summary>Student-t emissions, robust to outliers: y | s = k ~ t_{ν_k}(μ_k, σ_k²).</summary>
/// <remarks>
/// <para>μ_k is <see cref="Locations"/>, σ_k <see cref="Scales"/> (a scale, not a variance) and ν_k
/// <see cref="DegreesOfFreedom"/>. log p(y | k) = log Γ((ν+1)/2) − log Γ(ν/2) − ½ log(ν π σ²) − (ν+1)/2 · log(1 + (y−μ)²/(ν σ²)).
/// The reported mean is μ_k and the variance σ_k² ν_k/(ν_k − 2), or +∞ when ν_k ≤ 2 (the variance does not exist).</para>
/// <para>Baum–Welch uses the scale-mixture representation y | τ ~ N(μ, σ²/τ), τ ~ Gamma(ν/2, ν/2) and one
/// conditional-maximisation (ECM) step per iteration: with u = (ν+1)/(ν + (y−μ)²/σ²),
/// μ = Σ γ u y / Σ γ u, σ² = Σ γ u (y − μ)² / Σ γ, and ν solves
/// log(ν/2) − ψ(ν/2) + 1 + Σ γ (E[log τ] − E[τ]) / Σ γ = 0 (kept within [1e-3, 1e6]). Each step cannot lower the
/// likelihood.</para>
/// </remarks>
public sealed class StudentTEmission : HmmEmission
{
    private const int Stride = 5;
    private readonly double[] locations;
    private readonly double[] scales;
    private readonly double[] degreesOfFreedom;
    private readonly double[] logNormalizers;
    private readonly double[] inverseNuScale2;
    private readonly double[] halfNuPlusOne;

    /// <summary>Creates and validates the emissions (errors name <c>locations</c>, <c>scales[k]</c>, <c>degreesOfFreedom[k]</c>).</summary>
    public StudentTEmission(ReadOnlySpan<double> locations, ReadOnlySpan<double> scales, ReadOnlySpan<double> degreesOfFreedom)
        : base(locations.Length, 1)
    {
        var k = locations.Length;
        if (k == 0)
        {
            throw new ModelValidationException("locations", "needs one entry per hidden state.");
        }

        if (scales.Length != k)
        {
            throw new ModelValidationException("scales", $"must have {k} entries (one per state, like locations), got {scales.Length}.");
        }

        if (degreesOfFreedom.Length != k)
        {
            throw new ModelValidationException("degreesOfFreedom", $"must have {k} entries (one per state, like locations), got {degreesOfFreedom.Length}.");
        }

        for (var s = 0; s < k; s++)
        {
            if (!double.IsFinite(locations[s]))
            {
                throw new ModelValidationException($"locations[{s}]", $"must be a finite number, got {locations[s]}.");
            }

            if (!(scales[s] > 0.0) || !double.IsFinite(scales[s]))
            {
                throw new ModelValidationException($"scales[{s}]", $"must be a positive finite scale, got {scales[s]}.");
            }

            if (!(degreesOfFreedom[s] > 0.0) || !double.IsFinite(degreesOfFreedom[s]))
            {
                throw new ModelValidationException($"degreesOfFreedom[{s}]", $"must be positive and finite, got {degreesOfFreedom[s]}.");
            }
        }

        this.locations = locations.ToArray();
        this.scales = scales.ToArray();
        this.degreesOfFreedom = degreesOfFreedom.ToArray();
        logNormalizers = new double[k];
        inverseNuScale2 = new double[k];
        halfNuPlusOne = new double[k];
        for (var s = 0; s < k; s++)
        {
            var nu = degreesOfFreedom[s];
            var s2 = scales[s] * scales[s];
            logNormalizers[s] = SpecialFunctions.GammaLn((nu + 1.0) / 2.0) - SpecialFunctions.GammaLn(nu / 2.0) - (0.5 * Math.Log(nu * Math.PI * s2));
            inverseNuScale2[s] = 1.0 / (nu * s2);
            halfNuPlusOne[s] = (nu + 1.0) / 2.0;
        }
    }

    /// <inheritdoc />
    public override string Type => "student-t";

    /// <inheritdoc />
    public override IReadOnlyList<string> ParameterNames { get; } = ["locations", "scales", "degreesOfFreedom"];

    /// <summary>μ_k.</summary>
    public ReadOnlySpan<double> Locations => locations;

    /// <summary>σ_k.</summary>
    public ReadOnlySpan<double> Scales => scales;

    /// <summary>ν_k.</summary>
    public ReadOnlySpan<double> DegreesOfFreedom => degreesOfFreedom;

    /// <inheritdoc />
    public override double LogDensity(int state, ReadOnlySpan<double> observation)
    {
        var y = observation[0];
        if (!double.IsFinite(y))
        {
            return 0.0;
        }

        var d = y - locations[state];
        var z = d * d * inverseNuScale2[state];

        // Far out (|y − μ| beyond about 1e154 σ) z overflows while log(1 + z) = 2 log|y − μ| + log(1/(νσ²)) is a
        // modest number: the heavy tail gives such a reading a finite log-density, which must not become −∞.
        var logOnePlusZ = double.IsPositiveInfinity(z) ? (2.0 * Math.Log(Math.Abs(d))) + Math.Log(inverseNuScale2[state]) : Math.Log(1.0 + z);
        return logNormalizers[state] - (halfNuPlusOne[state] * logOnePlusZ);
    }

    /// <inheritdoc />
    public override void Moments(int state, Span<double> mean, Span<double> covariance)
    {
        var nu = degreesOfFreedom[state];
        mean[0] = locations[state];
        covariance[0] = nu > 2.0 ? scales[state] * scales[state] * nu / (nu - 2.0) : double.PositiveInfinity;
    }

    /// <inheritdoc />
    internal override int StatisticsLength => Stride * StateCount;

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
            var g = stateWeights[k];
            var nu = degreesOfFreedom[k];
            var d = y - locations[k];
            var delta2 = d * d / (scales[k] * scales[k]);
            var u = (nu + 1.0) / (nu + delta2);
            var logHalfSpread = double.IsPositiveInfinity(delta2)
                ? (2.0 * (Math.Log(Math.Abs(d)) - Math.Log(scales[k]))) - Math.Log(2.0)
                : Math.Log((nu + delta2) / 2.0);
            var expectedLogTau = SpecialFunctions.DiGamma((nu + 1.0) / 2.0) - logHalfSpread;
            var s = statistics.Slice(k * Stride, Stride);
            s[0] += g;
            s[1] += g * u;
            s[2] += g * u * d;
            s[3] += g * u * d * d;
            s[4] += g * (expectedLogTau - u);
        }
    }

    /// <inheritdoc />
    internal override HmmEmission Maximize(ReadOnlySpan<double> statistics, IReadOnlySet<string> parameters)
    {
        var fitLocations = parameters.Contains("locations");
        var fitScales = parameters.Contains("scales");
        var fitNu = parameters.Contains("degreesOfFreedom");
        var mu = locations.ToArray();
        var sigma = scales.ToArray();
        var nu = degreesOfFreedom.ToArray();
        for (var k = 0; k < StateCount; k++)
        {
            var s = statistics.Slice(k * Stride, Stride);
            if (!(s[0] > 0.0) || !(s[1] > 0.0))
            {
                continue;
            }

            var shift = s[2] / s[1];
            if (fitLocations)
            {
                mu[k] = locations[k] + shift;
            }

            if (fitScales)
            {
                var weighted = fitLocations ? s[3] - (s[2] * shift) : s[3];
                sigma[k] = Math.Sqrt(Math.Max(weighted / s[0], GaussianEmission.VarianceFloor));
            }

            if (fitNu)
            {
                nu[k] = SolveDegreesOfFreedom(1.0 + (s[4] / s[0]));
            }
        }

        return new StudentTEmission(mu, sigma, nu);
    }

    /// <summary>Root of log(ν/2) − ψ(ν/2) + c = 0 (decreasing in ν), by bisection on log ν.</summary>
    private static double SolveDegreesOfFreedom(double c)
    {
        static double F(double nu, double c) => Math.Log(nu / 2.0) - SpecialFunctions.DiGamma(nu / 2.0) + c;

        double lo = Math.Log(1e-3), hi = Math.Log(1e6);
        if (F(Math.Exp(hi), c) >= 0.0)
        {
            return 1e6;
        }

        if (F(Math.Exp(lo), c) <= 0.0)
        {
            return 1e-3;
        }

        for (var i = 0; i < 200 && hi - lo > 1e-13; i++)
        {
            var mid = 0.5 * (lo + hi);
            if (F(Math.Exp(mid), c) > 0.0)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return Math.Exp(0.5 * (lo + hi));
    }

    /// <inheritdoc />
    internal override void WriteSpec(JsonObject emission)
    {
        emission["type"] = Type;
        emission["locations"] = ToJson(locations);
        emission["scales"] = ToJson(scales);
        emission["degreesOfFreedom"] = ToJson(degreesOfFreedom);
    }
}
