using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian.ContinuousTime;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Gaussian;

/// <summary>
/// The <c>linear-gaussian</c> spec kind: either explicit discrete-time matrices, or continuous-time
/// <c>components</c> (presets, summed block-diagonally) discretised by the actual gap between observations.
/// </summary>
public sealed class LinearGaussianKind : IModelKind, IExpectationMaximization
{
    /// <inheritdoc />
    public string Kind => "linear-gaussian";

    /// <inheritdoc />
    public string Description => "Kalman filter: explicit matrices, or continuous-time presets (local level, trend, constant velocity/acceleration, Ornstein-Uhlenbeck, trigonometric seasonal) and their sums.";

    /// <inheritdoc />
    public IEstimator Build(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new KalmanFilter(BuildModel(spec));
    }

    /// <inheritdoc />
    public FitResult FitEm(ModelSpec spec, IReadOnlyList<ObservationSeries> sequences, IReadOnlyCollection<string> parameters, FitOptions options)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Kind != Kind)
        {
            throw new ModelValidationException("kind", $"is '{spec.Kind}', but this EM fits '{Kind}' models.");
        }

        return LinearGaussianEm.Fit(spec, sequences, parameters, options ?? new FitOptions());
    }

    /// <summary>Reads the model parameters of a <c>linear-gaussian</c> spec.</summary>
    public static LinearGaussianModel BuildModel(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var hasComponents = spec.Has("components") || spec.Has("preset");
        var hasMatrices = spec.Has("transition");
        if (hasComponents == hasMatrices)
        {
            throw spec.Error(hasComponents ? "transition" : "components", hasComponents
                ? "give either explicit matrices (transition, transitionNoise, observation) or components/preset, not both."
                : "is required: give explicit matrices (transition, transitionNoise, observation, observationNoise) or continuous-time components.");
        }

        return hasMatrices ? FromMatrices(spec) : FromComponents(spec);
    }

    private static LinearGaussianModel FromMatrices(SpecReader spec)
    {
        var (f, n, fc) = spec.Matrix("transition");
        if (n != fc)
        {
            throw spec.Error("transition", $"must be square, got {n}x{fc}.");
        }

        var (q, _, _) = spec.Matrix("transitionNoise", n, n);
        var (h, m, _) = spec.Matrix("observation", null, n);
        var (r, _, _) = spec.Matrix("observationNoise", m, m);
        var c = spec.OptionalVector("transitionOffset", n);
        var d = spec.OptionalVector("observationOffset", m);
        var control = spec.OptionalMatrix("control", n);
        var (mean, cov, diffuse) = ReadInitialization(spec, n, null);
        return new LinearGaussianModel(
            new MatrixDynamics(n, f, q, c),
            m,
            h,
            r,
            mean,
            cov,
            diffuse,
            d,
            control?.Values ?? default,
            control?.Columns ?? 0);
    }

    private static LinearGaussianModel FromComponents(SpecReader spec)
    {
        var readers = spec.Has("preset") ? [spec.Object("preset")] : spec.Objects("components");
        if (readers.Count == 0)
        {
            throw spec.Error("components", "needs at least one component.");
        }

        var components = new List<ContinuousComponent>();
        foreach (var c in readers)
        {
            try
            {
                components.Add(ReadComponent(c));
            }
            catch (ModelValidationException e) when (!e.Field.StartsWith(c.Path, StringComparison.Ordinal))
            {
                throw e.WithPrefix(c.Path);
            }
        }

        var dynamics = new ContinuousTimeDynamics(components);
        var n = dynamics.StateDimension;
        var m = dynamics.ObservationDimension;
        var h = new double[m * n];
        dynamics.WriteObservation(h);
        var (r, _, _) = spec.Matrix("observationNoise", m, m);
        var defaults = (new double[n], new double[n * n], new double[n * n]);
        dynamics.WriteInitial(defaults.Item1, defaults.Item2, defaults.Item3);
        var (mean, cov, diffuse) = ReadInitialization(spec, n, defaults);
        return new LinearGaussianModel(dynamics, m, h, r, mean, cov, diffuse);
    }

    private static ContinuousComponent ReadComponent(SpecReader c)
    {
        var type = c.String("type");
        return type switch
        {
            "local-level" => new LocalLevel(c.Number("levelNoise"), c.Integer("dimensions", 1)),
            "local-linear-trend" => new LocalLinearTrend(c.Number("levelNoise"), c.Number("slopeNoise")),
            "constant-velocity" => new ConstantVelocity(c.Number("accelerationNoise"), c.Integer("dimensions", 1)),
            "constant-acceleration" => new ConstantAcceleration(c.Number("jerkNoise"), c.Integer("dimensions", 1)),
            "ornstein-uhlenbeck" => new OrnsteinUhlenbeck(c.Number("meanReversion"), c.Number("mean", 0.0), c.Number("volatility")),
            "trigonometric-seasonal" => new TrigonometricSeasonal(c.Number("period"), c.Integer("harmonics", 1), c.Number("seasonalNoise")),
            _ => throw c.Error("type", $"unknown preset '{type}' (known: local-level, local-linear-trend, constant-velocity, constant-acceleration, ornstein-uhlenbeck, trigonometric-seasonal)."),
        };
    }

    private static (double[] Mean, double[] Covariance, double[]? Diffuse) ReadInitialization(
        SpecReader spec, int n, (double[] Mean, double[] Cov, double[] Diffuse)? defaults)
    {
        var init = spec.OptionalString("initialization");
        var mean = spec.OptionalVector("initialMean", n);
        var cov = spec.OptionalMatrix("initialCovariance", n, n)?.Values;
        switch (init)
        {
            case "diffuse":
                if (cov is not null)
                {
                    throw spec.Error("initialCovariance", "must be omitted with \"initialization\": \"diffuse\" (every state starts with infinite variance).");
                }

                var inf = new double[n * n];
                for (var i = 0; i < n; i++)
                {
                    inf[(i * n) + i] = 1.0;
                }

                return (mean ?? new double[n], new double[n * n], inf);
            case null or "known":
                if (mean is null || cov is null)
                {
                    if (defaults is { } d && mean is null && cov is null && init is null)
                    {
                        return (d.Mean, d.Cov, d.Diffuse);
                    }

                    throw spec.Error(mean is null ? "initialMean" : "initialCovariance", "is required (or set \"initialization\": \"diffuse\").");
                }

                return (mean, cov, null);
            default:
                throw spec.Error("initialization", $"must be \"known\" or \"diffuse\", got \"{init}\".");
        }
    }
}
