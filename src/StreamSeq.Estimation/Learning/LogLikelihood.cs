using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Learning;

/// <summary>The sequence density log p(y_{1:T}) = Σ_t log p(y_t | y_{1:t-1}) of a model on data.</summary>
public static class LogLikelihood
{
    /// <summary>Runs the estimator from its prior over each sequence and sums the per-step log-likelihoods.</summary>
    /// <remarks>Wholly missing steps contribute nothing. A step that re-initialises the filter makes the total −∞,
    /// so an optimiser steers away from parameters that break the filter.</remarks>
    public static double Evaluate(IEstimator estimator, IReadOnlyList<ObservationSeries> sequences, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(estimator);
        ArgumentNullException.ThrowIfNull(sequences);
        return Walk(estimator, sequences, seed, out _);
    }

    /// <summary>
    /// Where <see cref="Evaluate"/> first turns non-finite: the sequence and reading (0-based) whose step re-initialises
    /// the filter or has a log-likelihood of ±∞, with which of the two; null when every step is finite.
    /// </summary>
    internal static (int Sequence, int Reading, string What)? FirstNonFinite(IEstimator estimator, IReadOnlyList<ObservationSeries> sequences, ulong seed = 0)
    {
        Walk(estimator, sequences, seed, out var first);
        return first;
    }

    /// <summary>The total, stopping at the first step that re-initialises the filter (−∞) or whose log-likelihood is infinite.</summary>
    private static double Walk(IEstimator estimator, IReadOnlyList<ObservationSeries> sequences, ulong seed, out (int Sequence, int Reading, string What)? first)
    {
        var state = new double[estimator.Info.StateLength];
        var estimate = new Estimate(estimator.Info);
        var total = 0.0;
        first = null;
        for (var s = 0; s < sequences.Count; s++)
        {
            var series = sequences[s];
            estimator.Initialize(state, seed + (ulong)s);
            for (var t = 0; t < series.Length; t++)
            {
                estimator.Step(state, series.At(t), estimate, default);
                if ((estimate.Flags & EstimateFlags.Reinitialized) != 0)
                {
                    first = (s, t, "makes the filter start again (its state stopped being a valid distribution)");
                    return double.NegativeInfinity;
                }

                if (double.IsInfinity(estimate.LogLikelihood))
                {
                    first = (s, t, $"has a log-likelihood of {(estimate.LogLikelihood > 0 ? "+" : "-")}Infinity (it lies beyond double precision from its prediction)");
                    return estimate.LogLikelihood;
                }

                if (!double.IsNaN(estimate.LogLikelihood))
                {
                    total += estimate.LogLikelihood;
                }
            }
        }

        return total;
    }
}
