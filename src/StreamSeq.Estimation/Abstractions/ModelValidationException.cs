namespace StreamSeq.Estimation.Abstractions;

/// <summary>A model specification or parameter set that cannot be used, naming the offending field.</summary>
public sealed class ModelValidationException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="field">The field path as written in the model spec, for example <c>transitionNoise</c> or
    /// <c>components[1].period</c>.</param>
    /// <param name="problem">What is wrong, in a sentence.</param>
    public ModelValidationException(string field, string problem)
        : base($"{field}: {problem}")
    {
        Field = field;
        Problem = problem;
    }

    /// <summary>Creates the exception.</summary>
    public ModelValidationException()
        : this("model", "invalid model")
    {
    }

    /// <summary>Creates the exception.</summary>
    public ModelValidationException(string message)
        : this("model", message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ModelValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Field = "model";
        Problem = message;
    }

    /// <summary>The offending field's path in the spec.</summary>
    public string Field { get; }

    /// <summary>The problem, without the field name.</summary>
    public string Problem { get; }

    /// <summary>Returns a copy whose field path is prefixed (for nested specs).</summary>
    public ModelValidationException WithPrefix(string prefix) =>
        new(string.IsNullOrEmpty(prefix) ? Field : $"{prefix}.{Field}", Problem);
}
