using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Switching;

/// <summary>
/// The <c>imm</c> spec kind: an interacting multiple model filter over switching linear Gaussian modes.
/// </summary>
/// <remarks>
/// Fields: <c>modeTransition</c> (K×K, rows sum to 1), <c>initialModeProbabilities</c> (K entries summing to 1;
/// default uniform) and <c>modes</c>, an array of K objects each with the fields of a <c>linear-gaussian</c> spec
/// (explicit matrices or continuous-time components, with a proper prior).
/// </remarks>
public sealed class ImmKind : IModelKind
{
    /// <inheritdoc />
    public string Kind => "imm";

    /// <inheritdoc />
    public string Description => "Interacting multiple model filter: Markov-switching linear Gaussian modes (manoeuvring targets, regime changes).";

    /// <inheritdoc />
    public SpecShape Fields { get; } = SpecShape.Of("modeTransition", "initialModeProbabilities").Nest("modes", LinearGaussianKind.ModelShape);

    /// <inheritdoc />
    public IEstimator Build(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var readers = spec.Objects("modes");
        if (readers.Count == 0)
        {
            throw spec.Error("modes", "needs at least one mode.");
        }

        var modes = new List<LinearGaussianModel>(readers.Count);
        foreach (var reader in readers)
        {
            try
            {
                modes.Add(LinearGaussianKind.BuildModel(reader));
            }
            catch (ModelValidationException e) when (!e.Field.StartsWith(reader.Path, StringComparison.Ordinal))
            {
                throw e.WithPrefix(reader.Path);
            }
        }

        var k = modes.Count;
        var (transition, rows, columns) = spec.Matrix("modeTransition");
        if (rows != k || columns != k)
        {
            throw spec.Error("modeTransition", $"must be {k}x{k} (one row and column per mode), got {rows}x{columns}.");
        }

        var initial = spec.OptionalVector("initialModeProbabilities", k) ?? Enumerable.Repeat(1.0 / k, k).ToArray();
        return new InteractingMultipleModelFilter(new SwitchingLinearGaussianModel(modes, transition, initial));
    }
}
