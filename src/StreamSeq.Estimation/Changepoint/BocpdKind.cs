using System.Text.Json;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Changepoint;

/// <summary>
/// The <c>bocpd</c> spec kind: <c>hazard</c> ({type: constant, rate} | {type: weibull, scale, shape} |
/// {type: logistic, rate, slope, midpoint}), <c>observation</c> ({type: normal-known-variance, variance, priorMean,
/// priorVariance} | {type: normal-gamma, priorMean, kappa, alpha, beta}; each parameter a number or one number per
/// component, with optional <c>dimensions</c>), <c>maxRunLength</c> (default 500), <c>pruneBelow</c> (default 1e-10)
/// and <c>variant</c> (<c>changepoint</c>, the default, or <c>adams-mackay</c>).
/// </summary>
public sealed class BocpdKind : IModelKind
{
    /// <inheritdoc />
    public string Kind => "bocpd";

    /// <inheritdoc />
    public string Description => "Bayesian online changepoint detection (Adams & MacKay): run-length posterior with constant, Weibull or logistic hazard; Gaussian known-variance or Normal-Gamma segments.";

    /// <inheritdoc />
    public SpecShape Fields { get; } = SpecShape.Of("maxRunLength", "pruneBelow", "variant")
        .Nest("hazard", SpecShape.Of().WithVariants(
            "type",
            null,
            ("constant", SpecShape.Of("rate")),
            ("weibull", SpecShape.Of("scale", "shape")),
            ("logistic", SpecShape.Of("rate", "slope", "midpoint"))))
        .Nest("observation", SpecShape.Of("dimensions").WithVariants(
            "type",
            null,
            ("normal-known-variance", SpecShape.Of("variance", "priorMean", "priorVariance")),
            ("normal-gamma", SpecShape.Of("priorMean", "kappa", "alpha", "beta"))));

    /// <summary>The most observed components, the worker's default limit on an input record's values.</summary>
    private const int MaxDimensions = 1024;

    /// <inheritdoc />
    public IEstimator Build(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var hazard = ReadHazard(spec.Object("hazard"));
        var observation = ReadObservation(spec.Object("observation"));
        var maxRunLength = spec.Integer("maxRunLength", BayesianChangepointDetector.DefaultMaxRunLength);
        var pruneBelow = spec.Number("pruneBelow", BayesianChangepointDetector.DefaultPruneBelow);
        var variant = spec.OptionalString("variant") switch
        {
            null or "changepoint" => RunLengthRecursion.Changepoint,
            "adams-mackay" => RunLengthRecursion.AdamsMacKay,
            var other => throw spec.Error("variant", $"must be \"changepoint\" or \"adams-mackay\", got \"{other}\"."),
        };
        return new BayesianChangepointDetector(hazard, observation, maxRunLength, pruneBelow, variant);
    }

    private static ChangepointHazard ReadHazard(SpecReader h)
    {
        var type = h.String("type");
        return Prefixed<ChangepointHazard>(h, () => type switch
        {
            "constant" => new ConstantHazard(h.Number("rate")),
            "weibull" => new WeibullHazard(h.Number("scale"), h.Number("shape")),
            "logistic" => new LogisticHazard(h.Number("rate"), h.Number("slope"), h.Number("midpoint")),
            _ => throw h.Error("type", $"unknown hazard type '{type}' (known: constant, weibull, logistic)."),
        });
    }

    private static SegmentModel ReadObservation(SpecReader o)
    {
        var type = o.String("type");
        var dimensions = o.Integer("dimensions", 0);
        if (o.Has("dimensions") && dimensions < 1)
        {
            throw o.Error("dimensions", $"must be at least 1, got {dimensions}.");
        }

        if (dimensions > MaxDimensions)
        {
            throw o.Error("dimensions", $"must be at most {MaxDimensions} (as many components as an input record may carry), got {dimensions}.");
        }

        return Prefixed<SegmentModel>(o, () =>
        {
            switch (type)
            {
                case "normal-known-variance":
                {
                    var m = Dimension(o, dimensions, "variance", "priorMean", "priorVariance");
                    return new NormalKnownVarianceModel(Field(o, "variance", m), Field(o, "priorMean", m), Field(o, "priorVariance", m));
                }

                case "normal-gamma":
                {
                    var m = Dimension(o, dimensions, "priorMean", "kappa", "alpha", "beta");
                    return new NormalGammaModel(Field(o, "priorMean", m), Field(o, "kappa", m), Field(o, "alpha", m), Field(o, "beta", m));
                }

                default:
                    throw o.Error("type", $"unknown observation type '{type}' (known: normal-known-variance, normal-gamma).");
            }
        });
    }

    /// <summary>m from <c>dimensions</c> or the first array-valued parameter (1 when all are numbers).</summary>
    private static int Dimension(SpecReader o, int dimensions, params string[] names)
    {
        if (dimensions > 0)
        {
            return dimensions;
        }

        foreach (var name in names)
        {
            if (o.Element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array)
            {
                return Math.Max(v.GetArrayLength(), 1);
            }
        }

        return 1;
    }

    /// <summary>A number (the same for every component) or an array of m numbers.</summary>
    private static double[] Field(SpecReader o, string name, int m)
    {
        if (o.Element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array)
        {
            return o.Vector(name, m);
        }

        var value = o.Number(name);
        var result = new double[m];
        Array.Fill(result, value);
        return result;
    }

    private static T Prefixed<T>(SpecReader reader, Func<T> build)
    {
        try
        {
            return build();
        }
        catch (ModelValidationException e) when (!e.Field.StartsWith(reader.Path, StringComparison.Ordinal))
        {
            throw e.WithPrefix(reader.Path);
        }
    }
}
