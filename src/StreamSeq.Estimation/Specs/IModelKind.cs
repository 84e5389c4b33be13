using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Specs;

/// <summary>One model kind of the catalog: reads its fields from a spec and builds the estimator.</summary>
public interface IModelKind
{
    /// <summary>The <c>kind</c> value in specs, for example <c>linear-gaussian</c>.</summary>
    string Kind { get; }

    /// <summary>One line for <c>--help</c> and docs.</summary>
    string Description { get; }

    /// <summary>
    /// Every field the kind's specs accept beyond the shared ones (<see cref="ModelSpec.CommonFields"/>), with nested
    /// objects and variants; null when the kind does not declare them (errors then list the fields read so far).
    /// </summary>
    SpecShape? Fields => null;

    /// <summary>Builds the estimator, reading every field it uses from <paramref name="spec"/>.</summary>
    /// <exception cref="ModelValidationException">A field is missing or invalid.</exception>
    IEstimator Build(SpecReader spec);
}
