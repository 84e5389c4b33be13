namespace StreamSeq.Nab.CrossValidation;

/// <summary>The held-out results of every fold, with their mean, pooled and worst summaries.</summary>
/// <param name="Folds">One outcome per fold, in fold order.</param>
public sealed record CrossValidatedScores(IReadOnlyList<FoldOutcome> Folds)
{
    /// <summary>The mean over folds of the folds' normalised scores (each fold counts once).</summary>
    public double Mean(string profile) => Folds.Average(f => f.ForProfile(profile).NormalizedScore);

    /// <summary>
    /// The pooled score: the folds' raw, null and perfect scores summed before normalising, i.e. the normalised
    /// score of all held-out predictions together (each window counts once).
    /// </summary>
    public double Pooled(string profile)
    {
        var outcomes = Folds.Select(f => f.ForProfile(profile)).ToList();
        return NabScorer.Normalize(outcomes.Sum(o => o.Score), outcomes.Sum(o => o.NullScore), outcomes.Sum(o => o.PerfectScore));
    }

    /// <summary>The fold with the lowest normalised score.</summary>
    public FoldOutcome Worst(string profile) => Folds.MinBy(f => f.ForProfile(profile).NormalizedScore)!;
}
