namespace StreamSeq.Estimation.Abstractions;

/// <summary>
/// An estimator whose streams learn some of the model's parameters online. The learned values live in each stream's
/// state buffer (so the changelog, a restore and a replay carry them bit for bit); every step also writes them, with
/// their uncertainty, into <see cref="Estimate.Parameters"/> and <see cref="Estimate.ParameterDeviations"/>.
/// </summary>
/// <remarks>Values are laid out as <see cref="EstimatorInfo.Parameters"/> says, each in the shape of its spec field.</remarks>
public interface IParameterLearner
{
    /// <summary>Writes a stream's current values and their standard deviations (NaN where the method gives none).</summary>
    /// <param name="state">The stream's state buffer.</param>
    /// <param name="values">Receives <see cref="EstimatorInfo.ParametersLength"/> values.</param>
    /// <param name="deviations">Receives as many standard deviations.</param>
    void ReadParameters(ReadOnlySpan<double> state, Span<double> values, Span<double> deviations);

    /// <summary>How many readings a stream has learned from (the diffuse start, missing readings and outliers excluded).</summary>
    long ReadingsLearned(ReadOnlySpan<double> state);

    /// <summary>
    /// Makes a freshly initialised stream start from <paramref name="values"/> instead of the spec's values (its prior):
    /// the prior's weight stays the spec's, only the starting values change.
    /// </summary>
    /// <param name="state">A state buffer just written by <see cref="IEstimator.Initialize"/>.</param>
    /// <param name="values">One value per parameter, laid out as <see cref="EstimatorInfo.Parameters"/> says.</param>
    /// <exception cref="ModelValidationException">A value cannot start a stream (not positive, not finite, or a matrix
    /// that is not of the learned form); the message names the parameter.</exception>
    void StartFrom(Span<double> state, ReadOnlySpan<double> values);
}
