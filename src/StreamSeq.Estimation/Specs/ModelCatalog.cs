using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Particles;
using StreamSeq.Estimation.Switching;
using StreamSeq.Estimation.Gaussian.Nonlinear;

namespace StreamSeq.Estimation.Specs;

/// <summary>
/// Every model kind a spec can name. Adding a family is one line here plus its <see cref="IModelKind"/>.
/// </summary>
public static class ModelCatalog
{
    private static readonly IModelKind[] Kinds =
    [
        new LinearGaussianKind(),
        new ParticleKind(),
        new ImmKind(),
        new ExtendedKalmanKind(),
        new UnscentedKalmanKind(),
        new Discrete.HmmKind(),
        new Changepoint.BocpdKind(),
    ];

    /// <summary>The registered kinds.</summary>
    public static IReadOnlyList<IModelKind> All => Kinds;

    /// <summary>The kind named <paramref name="kind"/>, or null.</summary>
    public static IModelKind? Find(string kind) => Kinds.FirstOrDefault(k => k.Kind == kind);

    /// <summary>Builds the estimator of a spec, checking that every field was understood.</summary>
    public static IEstimator Build(ModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var kind = Kinds.FirstOrDefault(k => k.Kind == spec.Kind)
            ?? throw new ModelValidationException("kind", $"unknown kind '{spec.Kind}' (known: {string.Join(", ", Kinds.Select(k => k.Kind))}).");
        var reader = spec.Reader();
        var estimator = kind.Build(reader);
        reader.EnsureAllFieldsKnown();
        return estimator;
    }
}
