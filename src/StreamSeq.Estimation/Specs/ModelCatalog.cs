using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Detection;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Gaussian.Nonlinear;
using StreamSeq.Estimation.Particles;
using StreamSeq.Estimation.Recurrent;
using StreamSeq.Estimation.Switching;

namespace StreamSeq.Estimation.Specs;

/// <summary>
/// Every model kind a spec can name. Adding a family is one line here plus its <see cref="IModelKind"/>; kinds that
/// live in assemblies this one cannot reference (such as the ONNX Runtime backend) are added at start-up with
/// <see cref="Register"/>.
/// </summary>
public static class ModelCatalog
{
    private static readonly IModelKind[] BuiltIn =
    [
        new LinearGaussianKind(),
        new ParticleKind(),
        new ImmKind(),
        new ExtendedKalmanKind(),
        new UnscentedKalmanKind(),
        new Discrete.HmmKind(),
        new Changepoint.BocpdKind(),
        new AnomalyDetectorKind(),
        new RecurrentKind(),
        new RecurrentUnscentedKind(),
        new RecurrentParticleKind(),
    ];

    private static readonly object Gate = new();
    private static volatile IModelKind[] kinds = BuiltIn;

    /// <summary>The registered kinds: the built-in ones, then those added with <see cref="Register"/>.</summary>
    public static IReadOnlyList<IModelKind> All => kinds;

    /// <summary>
    /// Adds a kind (typically from an optional assembly, at process start). Registering another instance of a kind
    /// type that is already registered under the same name does nothing, so start-up code may run more than once.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another kind type already uses the name.</exception>
    public static void Register(IModelKind kind)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentException.ThrowIfNullOrWhiteSpace(kind.Kind, nameof(kind));
        lock (Gate)
        {
            var current = kinds;
            if (current.FirstOrDefault(k => k.Kind == kind.Kind) is { } existing)
            {
                if (existing.GetType() == kind.GetType())
                {
                    return;
                }

                throw new InvalidOperationException($"Model kind '{kind.Kind}' is already registered by {existing.GetType().FullName}.");
            }

            kinds = [.. current, kind];
        }
    }

    /// <summary>The kind named <paramref name="kind"/>, or null.</summary>
    public static IModelKind? Find(string kind) => kinds.FirstOrDefault(k => k.Kind == kind);

    /// <summary>Builds the estimator of a spec, checking that every field was understood.</summary>
    public static IEstimator Build(ModelSpec spec) => Build(spec, out _);

    /// <summary>Builds the estimator of a spec and lists the files the spec refers to (weights, graphs).</summary>
    public static IEstimator Build(ModelSpec spec, out IReadOnlyList<string> files)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var all = kinds;
        var kind = all.FirstOrDefault(k => k.Kind == spec.Kind)
            ?? throw new ModelValidationException("kind", $"unknown kind '{spec.Kind}' (known: {string.Join(", ", all.Select(k => k.Kind))}).");
        var reader = spec.Reader();
        IEstimator estimator;
        try
        {
            estimator = kind.Build(reader);
        }
        catch (ModelValidationException e) when (e.Problem.StartsWith("is required", StringComparison.Ordinal) && reader.UndeclaredField() is { } unknown)
        {
            // A misspelt field surfaces first as its correct spelling missing ("transitionNoise: is required"), which
            // hides the typo: name the unknown field and what it accepts, then the problem it caused. (Other errors
            // stand as they are: after a misspelt discriminator, "type": "gausian", every field of the variant meant
            // looks unknown, and the unknown type is the error to report.)
            throw new ModelValidationException(unknown.Field, $"{unknown.Problem.TrimEnd('.')}; {e.Field}: {e.Problem}");
        }

        reader.EnsureAllFieldsKnown();
        files = [.. reader.Files.Distinct(StringComparer.Ordinal)];
        return estimator;
    }
}
