namespace StreamSeq.Estimation.Changepoint;

/// <summary>
/// Batch operations over the sufficient statistics of many run-length hypotheses at once (structure of arrays), so the
/// detector's step is a handful of tight loops.
/// </summary>
/// <remarks>
/// Statistics of entry j live at <c>stats[((c · S) + s) · cap + j]</c> for component c and statistic s (S =
/// <see cref="StatsPerComponent"/>); statistic 0 is always the number of observed values n. Moments are written per
/// component at <c>[c · momentCap + j]</c>.
/// </remarks>
internal abstract class SegmentEngine
{
    protected SegmentEngine(int dimension, int maxCount)
    {
        Dimension = dimension;
        MaxCount = maxCount;
    }

    public int Dimension { get; }

    public int MaxCount { get; }

    public abstract int StatsPerComponent { get; }

    /// <summary>Writes the prior's statistics into entry j.</summary>
    public abstract void WritePrior(Span<double> stats, int cap, int j);

    /// <summary>
    /// For entries 0..count−1: logp[j] = Σ over observed components of log p(y_c | statistics of j), then adds y to each
    /// entry's statistics. <paramref name="scratch"/> holds at least 2·count doubles.
    /// </summary>
    public abstract void Assimilate(Span<double> stats, int cap, int count, ReadOnlySpan<double> y, Span<double> logp, Span<double> scratch);

    /// <summary>Adds y (observed components only) to entry j.</summary>
    public abstract void UpdateOne(Span<double> stats, int cap, int j, ReadOnlySpan<double> y);

    /// <summary>Mean and variance of each component's segment mean μ_c given entry j's statistics (+∞ when undefined).</summary>
    public abstract void PosteriorMoments(ReadOnlySpan<double> stats, int cap, int count, Span<double> means, Span<double> variances, int momentCap);

    /// <summary>
    /// E[Var(y_c | segment parameters) | entry j's statistics], the observation-noise part of the predictive variance
    /// (+∞ when undefined). By the law of total variance the predictive of y_c has mean E[μ_c] and variance
    /// Var[μ_c] + this.
    /// </summary>
    public abstract void NoiseVariances(ReadOnlySpan<double> stats, int cap, int count, Span<double> noise, int momentCap);

    /// <summary>The noise variance per component when it does not depend on the data (known variance), else null.</summary>
    public virtual ReadOnlySpan<double> ConstantNoise => default;

    /// <summary>The observed count n of component c, entry j, as an index into tables.</summary>
    protected static int Count(ReadOnlySpan<double> stats, int cap, int c, int statsPerComponent, int j) =>
        (int)stats[(c * statsPerComponent * cap) + j];
}
