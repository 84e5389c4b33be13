namespace StreamSeq.Estimation.Abstractions;

/// <summary>
/// A model parameter that every stream learns online (see <see cref="IParameterLearner"/>), named by its spec path as
/// <c>streamseq fit --fit</c> names it (<c>observationNoise</c>, <c>components[0].levelNoise</c>,
/// <c>model.observationNoise</c>).
/// </summary>
/// <param name="Name">The spec path.</param>
/// <param name="Rows">Rows of a matrix value (0 for a number).</param>
/// <param name="Columns">Columns of a matrix value (0 for a number).</param>
/// <param name="Method">How it is learned: <c>recursive-ml</c> or <c>variational-bayes</c>.</param>
public sealed record LearnedParameter(string Name, int Rows, int Columns, string Method)
{
    /// <summary>True when the value is a matrix (written as nested arrays), false for a number.</summary>
    public bool IsMatrix => Rows > 0;

    /// <summary>Doubles the value takes in a flat buffer (row-major for a matrix).</summary>
    public int Length => IsMatrix ? Rows * Columns : 1;
}
