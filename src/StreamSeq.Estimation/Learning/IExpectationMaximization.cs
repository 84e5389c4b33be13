using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Learning;

/// <summary>
/// Implemented by model kinds that can be fitted by expectation-maximisation (<c>streamseq fit --method em</c>).
/// </summary>
public interface IExpectationMaximization
{
    /// <summary>Fits the named parameters of <paramref name="spec"/> to one or more sequences.</summary>
    /// <param name="spec">The starting model.</param>
    /// <param name="sequences">Training sequences (missing values allowed).</param>
    /// <param name="parameters">Spec field names to re-estimate; the others stay fixed.</param>
    /// <param name="options">Limits, tolerance and progress.</param>
    FitResult FitEm(ModelSpec spec, IReadOnlyList<ObservationSeries> sequences, IReadOnlyCollection<string> parameters, FitOptions options);
}
