using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Particles;

/// <summary>
/// The <c>particle</c> spec kind: a particle filter over a built-in model.
/// </summary>
/// <remarks>
/// Fields: <c>particles</c> (N, default 1000), <c>resampling</c> (<c>multinomial</c>, <c>stratified</c>,
/// <c>systematic</c> (default) or <c>residual</c>), <c>essThreshold</c> (in (0, 1], default 0.5; 1 resamples every
/// step), <c>sortedResampling</c> (default false; for fitting 1-D models), <c>filter</c> (<c>bootstrap</c> (default), <c>auxiliary</c>, or <c>guided</c> for the linear model),
/// <c>intervalSmoothing</c> (<c>auto</c> (default), <c>marginal</c> or <c>ancestors</c>, see <see cref="ParticleSmoothing"/>) and
/// <c>model</c>: <c>{"type":"growth"}</c> (optional <c>initialMean</c>, <c>initialVariance</c>, <c>transitionNoise</c>,
/// <c>observationNoise</c>), <c>{"type":"pendulum"}</c> (optional <c>timeStep</c>, <c>gravity</c>,
/// <c>accelerationNoise</c>, <c>observationNoise</c>, <c>initialMean</c>, <c>initialCovariance</c>),
/// <c>{"type":"stochastic-volatility","persistence":φ,"volatility":σ,"scale":β}</c> (optional <c>initialMean</c>,
/// <c>initialVariance</c>) or <c>{"type":"linear", ...}</c> with the fields of a <c>linear-gaussian</c> spec.
/// The stream seed comes from the processor (model <c>seed</c> mixed with the stream id).
/// </remarks>
public sealed class ParticleKind : IModelKind
{
    /// <inheritdoc />
    public string Kind => "particle";

    /// <inheritdoc />
    public string Description => "Particle filter (bootstrap, auxiliary or guided) over a growth, pendulum, stochastic-volatility or linear Gaussian model.";

    /// <summary>The filter settings, shared with the <c>recurrent-particle</c> kind.</summary>
    public static SpecShape OptionsShape { get; } = SpecShape.Of("particles", "resampling", "essThreshold", "sortedResampling", "filter", "intervalSmoothing");

    /// <summary>The <c>model</c> object.</summary>
    public static SpecShape ModelShape { get; } = SpecShape.Of().WithVariants(
        "type",
        null,
        ("growth", SpecShape.Of("initialMean", "initialVariance", "transitionNoise", "observationNoise")),
        ("pendulum", SpecShape.Of("timeStep", "gravity", "accelerationNoise", "observationNoise", "initialMean", "initialCovariance")),
        ("stochastic-volatility", SpecShape.Of("persistence", "volatility", "scale", "initialMean", "initialVariance")),
        ("linear", LinearGaussianKind.ModelShape));

    /// <inheritdoc />
    public SpecShape Fields { get; } = OptionsShape.Nest("model", ModelShape);

    /// <inheritdoc />
    public IEstimator Build(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new ParticleFilter(BuildModel(spec.Object("model")), ReadOptions(spec));
    }

    /// <summary>Reads and validates the filter settings of a particle spec (<c>particles</c>, <c>resampling</c>,
    /// <c>essThreshold</c>, <c>sortedResampling</c>, <c>filter</c>, <c>intervalSmoothing</c>).</summary>
    public static ParticleFilterOptions ReadOptions(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var options = new ParticleFilterOptions
        {
            ParticleCount = spec.Integer("particles", 1000),
            Resampling = spec.OptionalString("resampling") switch
            {
                null or "systematic" => ResamplingScheme.Systematic,
                "stratified" => ResamplingScheme.Stratified,
                "multinomial" => ResamplingScheme.Multinomial,
                "residual" => ResamplingScheme.Residual,
                var other => throw spec.Error("resampling", $"unknown scheme '{other}' (known: systematic, stratified, multinomial, residual)."),
            },
            EssThreshold = spec.Number("essThreshold", 0.5),
            SortedResampling = spec.Boolean("sortedResampling", false),
            Algorithm = spec.OptionalString("filter") switch
            {
                null or "bootstrap" => ParticleFilterAlgorithm.Bootstrap,
                "auxiliary" => ParticleFilterAlgorithm.Auxiliary,
                "guided" => ParticleFilterAlgorithm.Guided,
                var other => throw spec.Error("filter", $"unknown filter '{other}' (known: bootstrap, auxiliary, guided)."),
            },
            IntervalSmoothing = spec.OptionalString("intervalSmoothing") switch
            {
                null or "auto" => ParticleSmoothing.Auto,
                "marginal" => ParticleSmoothing.Marginal,
                "ancestors" => ParticleSmoothing.Ancestors,
                var other => throw spec.Error("intervalSmoothing", $"unknown smoothing '{other}' (known: auto, marginal, ancestors)."),
            },
        };
        options.Validate();
        return options;
    }

    /// <summary>Reads the <c>model</c> object of a particle spec.</summary>
    public static IStateSpaceModel BuildModel(SpecReader model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var type = model.String("type");
        try
        {
            return type switch
            {
                "growth" => new NonstationaryGrowthModel(
                    model.Number("initialMean", 0.0),
                    model.Number("initialVariance", 5.0),
                    model.Number("transitionNoise", 10.0),
                    model.Number("observationNoise", 1.0)),
                "pendulum" => new PendulumModel(
                    model.Number("timeStep", 0.01),
                    model.Number("gravity", 9.81),
                    model.Number("accelerationNoise", 0.1),
                    model.Number("observationNoise", 0.01),
                    model.OptionalVector("initialMean", 2),
                    model.OptionalMatrix("initialCovariance", 2, 2)?.Values),
                "stochastic-volatility" => new StochasticVolatilityModel(
                    model.Number("persistence"),
                    model.Number("volatility"),
                    model.Number("scale", 1.0),
                    model.Has("initialMean") ? model.Number("initialMean") : null,
                    model.Has("initialVariance") ? model.Number("initialVariance") : null),
                "linear" => new LinearGaussianParticleModel(LinearGaussianKind.BuildModel(model)),
                _ => throw model.Error("type", $"unknown particle model '{type}' (known: growth, pendulum, stochastic-volatility, linear)."),
            };
        }
        catch (ModelValidationException e) when (!e.Field.StartsWith(model.Path, StringComparison.Ordinal))
        {
            throw e.WithPrefix(model.Path);
        }
    }
}
