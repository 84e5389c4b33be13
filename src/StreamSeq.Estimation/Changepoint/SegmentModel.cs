namespace StreamSeq.Estimation.Changepoint;

/// <summary>
/// The observation model of one segment in Bayesian online changepoint detection: y | μ within a segment, with a
/// conjugate prior on the segment's parameters so each run length carries a closed-form posterior and predictive.
/// </summary>
/// <remarks>
/// Multivariate observations are modelled as independent components, each with its own prior: the predictive
/// density of y is the product of the components' predictive densities over the observed components, and a missing
/// component leaves its posterior unchanged. Implementations: <see cref="NormalKnownVarianceModel"/> and
/// <see cref="NormalGammaModel"/>.
/// </remarks>
public abstract class SegmentModel
{
    private protected SegmentModel(int dimension) => Dimension = dimension;

    /// <summary>Number of components m.</summary>
    public int Dimension { get; }

    /// <summary>The <c>observation.type</c> value in specs.</summary>
    public abstract string Type { get; }

    /// <summary>Builds the hot-path engine for runs of up to <paramref name="maxCount"/> observations.</summary>
    internal abstract SegmentEngine CreateEngine(int maxCount);
}
