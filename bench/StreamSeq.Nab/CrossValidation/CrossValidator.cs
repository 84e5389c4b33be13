using System.Collections.Concurrent;

namespace StreamSeq.Nab.CrossValidation;

/// <summary>
/// Model and threshold selection by cross-validation with NAB's scoring, and its honest (nested) estimate.
/// </summary>
/// <remarks>
/// <para><b>Fitting a threshold</b> on a set of files uses those files alone: NAB's optimiser (the threshold that
/// maximises their summed raw score for a profile) or, with <see cref="ThresholdRule.Bagged"/>, the median of the
/// optimiser's thresholds over bootstrap resamples of the files.</para>
/// <para><b>The criterion</b> of a candidate on a set of folds T is its pooled cross-validated score on the selection
/// profile: for each fold i in T, the threshold fitted on T \ {i} scores fold i; the raw, null and perfect scores are
/// summed over the folds and normalised. <b>Selection</b> on T follows the one-standard-error rule: candidates are
/// listed in order of preference, and the first whose criterion is within one standard error (of the best candidate's
/// fold scores) of the best is chosen, so a difference smaller than the folds' noise does not move the choice. With
/// <see cref="SelectionCriterion.Robust"/> the criterion is averaged over the inner folds' thresholds moved by each of
/// <see cref="RobustShifts"/>, so a candidate must hold its score near the fitted threshold, not just at it.</para>
/// <para><b>Nested estimate</b>: for each fold f, selection on the other folds chooses a candidate, thresholds are
/// fitted for every profile on the other folds' files, and fold f is scored with null and perfect over its files.
/// Nothing about fold f (labels included) influences what is chosen for it.</para>
/// <para><b>Shipped configuration</b>: selection on every fold, thresholds fitted on every file.</para>
/// <para>Detector outputs are computed once per candidate (they do not depend on labels); each threshold fit is
/// memoised by candidate, training folds and profile, so the nested loops sweep every distinct training set once.</para>
/// </remarks>
public sealed class CrossValidator
{
    private readonly IReadOnlyList<NabFold> folds;
    private readonly IReadOnlyList<CostProfile> profiles;
    private readonly IReadOnlyList<DetectorCandidate> candidates;
    private readonly DetectorResults[] results;
    private readonly int selection;
    private readonly int parallelism;
    private readonly ConcurrentDictionary<(int Candidate, long Excluded, int Profile), double> thresholds = new();
    private readonly ConcurrentDictionary<(int Candidate, int Profile), ThresholdCurves> curves = new();
    private readonly NabCorpus corpus;
    private readonly int[] foldOfFile;
    private readonly long all;

    /// <summary>Creates a cross-validation.</summary>
    /// <param name="folds">The folds (at most 62; each with a scored window).</param>
    /// <param name="profiles">The profiles scored.</param>
    /// <param name="candidates">The candidates, simplest first.</param>
    /// <param name="results">Each candidate's per-row scores over every file of the folds, in candidate order.</param>
    /// <param name="selectionProfile">The profile whose cross-validated score chooses the candidate.</param>
    /// <param name="parallelism">Threshold sweeps run at once.</param>
    /// <param name="rule">How thresholds are fitted on training files.</param>
    /// <param name="oneStandardError">Select by the one-standard-error rule (true) or take the best criterion (false).</param>
    /// <param name="criterion">What candidates are judged by inside the training folds.</param>
    /// <exception cref="ArgumentException">Fewer than two folds, a fold without a scored window, mismatched candidates and results, or an unknown selection profile.</exception>
    public CrossValidator(
        IReadOnlyList<NabFold> folds,
        IReadOnlyList<CostProfile> profiles,
        IReadOnlyList<DetectorCandidate> candidates,
        IReadOnlyList<DetectorResults> results,
        string selectionProfile,
        int parallelism = 1,
        ThresholdRule rule = ThresholdRule.Optimal,
        bool oneStandardError = true,
        SelectionCriterion criterion = SelectionCriterion.Pooled)
    {
        ArgumentNullException.ThrowIfNull(folds);
        ArgumentNullException.ThrowIfNull(profiles);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(results);
        if (folds.Count < 2 || folds.Count > 62)
        {
            throw new ArgumentException($"Cross-validation needs 2 to 62 folds, got {folds.Count}.", nameof(folds));
        }

        if (folds.FirstOrDefault(f => f.ScoredWindowCount == 0) is { } empty)
        {
            throw new ArgumentException($"Fold '{empty.Name}' has no scored window, so its score cannot be normalised.", nameof(folds));
        }

        if (candidates.Count == 0 || candidates.Count != results.Count)
        {
            throw new ArgumentException($"{candidates.Count} candidates and {results.Count} result sets: there must be one result set per candidate, and at least one.", nameof(results));
        }

        selection = profiles.ToList().FindIndex(p => string.Equals(p.Name, selectionProfile, StringComparison.Ordinal));
        if (selection < 0)
        {
            throw new ArgumentException($"Selection profile '{selectionProfile}' is not among the profiles.", nameof(selectionProfile));
        }

        this.folds = folds;
        this.profiles = profiles;
        this.candidates = candidates;
        this.results = [.. results];
        this.parallelism = Math.Max(1, parallelism);
        Rule = rule;
        OneStandardError = oneStandardError;
        Judged = criterion;
        all = (1L << folds.Count) - 1;
        corpus = new NabCorpus(folds.SelectMany(f => f.Files));
        foldOfFile = [.. corpus.Files.Select(file => folds.ToList().FindIndex(f => f.Files.Contains(file)))];
        foreach (var r in this.results)
        {
            r.EnsureCovers(corpus);
        }
    }

    /// <summary>Threshold shifts whose scores the result reports for the shipped candidate.</summary>
    public static IReadOnlyList<double> SensitivityShifts { get; } = [-0.05, -0.02, -0.01, 0.0, 0.01, 0.02, 0.05];

    /// <summary>Threshold shifts the <see cref="SelectionCriterion.Robust"/> criterion averages over.</summary>
    public static IReadOnlyList<double> RobustShifts { get; } = [-0.02, -0.01, 0.0, 0.01, 0.02];

    /// <summary>Grid step of the near-optimal threshold band.</summary>
    public const double BandStep = 0.0025;

    /// <summary>Farthest the near-optimal threshold band is searched either side of the shipped threshold.</summary>
    public const double BandReach = 0.2;

    /// <summary>Normalised points below the best in-sample score that still count as near-optimal.</summary>
    public const double BandTolerance = 2.0;

    /// <summary>What candidates are judged by inside the training folds.</summary>
    public SelectionCriterion Judged { get; }

    /// <summary>How thresholds are fitted.</summary>
    public ThresholdRule Rule { get; }

    /// <summary>True when selection follows the one-standard-error rule; false when it takes the best criterion.</summary>
    public bool OneStandardError { get; }

    /// <summary>Runs the nested estimate, the selection on every fold and the in-sample scores of the shipped candidate.</summary>
    public CrossValidationResult Run()
    {
        var selectionName = profiles[selection].Name;
        var nested = new List<FoldOutcome>(folds.Count);
        for (var f = 0; f < folds.Count; f++)
        {
            var training = all & ~(1L << f);
            var chosen = Select(training);
            nested.Add(HeldOut(chosen, f));
        }

        var criteria = Criteria(all);
        var shipped = Best(criteria);
        var shippedFolds = Enumerable.Range(0, folds.Count).Select(f => HeldOut(shipped, f)).ToList();
        var scorer = new NabScorer(corpus, profiles);
        var inSample = profiles.Select((p, k) => scorer.ScoreProfile(results[shipped], p, Threshold(shipped, 0, k))).ToList();
        var summaries = candidates.Select((c, i) => new CandidateSummary(
            c.Name,
            criteria[i].Pooled,
            criteria[i].Mean,
            criteria[i].StandardError,
            scorer.ScoreProfile(results[i], profiles[selection], Threshold(i, 0, selection)).NormalizedScore)).ToList();
        var sensitivity = new List<ThresholdSensitivity>();
        var bands = new List<ThresholdBand>();
        for (var k = 0; k < profiles.Count; k++)
        {
            var fitted = Threshold(shipped, 0, k);
            foreach (var shift in SensitivityShifts)
            {
                var held = new CrossValidatedScores([.. Enumerable.Range(0, folds.Count).Select(f => HeldOut(shipped, f, shift))]);
                sensitivity.Add(new ThresholdSensitivity(
                    profiles[k].Name,
                    shift,
                    scorer.ScoreProfile(results[shipped], profiles[k], fitted + shift).NormalizedScore,
                    held.Mean(profiles[k].Name),
                    held.Pooled(profiles[k].Name)));
            }

            bands.Add(Band(scorer, shipped, k, fitted));
        }

        return new CrossValidationResult(
            string.Empty,
            selectionName,
            new CrossValidatedScores(nested),
            candidates[shipped].Name,
            new CrossValidatedScores(shippedFolds),
            inSample,
            summaries,
            OneStandardError,
            Judged,
            sensitivity,
            bands);
    }

    /// <summary>The contiguous grid of thresholds around <paramref name="threshold"/> whose in-sample score stays within <see cref="BandTolerance"/> of the best in-sample score.</summary>
    private ThresholdBand Band(NabScorer scorer, int candidate, int profile, double threshold)
    {
        var optimum = scorer.ScoreProfile(results[candidate], profiles[profile], scorer.OptimizeThreshold(results[candidate], profiles[profile]).Threshold).NormalizedScore;
        var score = optimum;
        if (scorer.ScoreProfile(results[candidate], profiles[profile], threshold).NormalizedScore < optimum - BandTolerance)
        {
            return new ThresholdBand(profiles[profile].Name, BandTolerance, optimum, threshold, threshold);
        }

        double Edge(int direction)
        {
            var edge = threshold;
            for (var step = 1; step * BandStep <= BandReach; step++)
            {
                var t = threshold + (direction * step * BandStep);
                if (scorer.ScoreProfile(results[candidate], profiles[profile], t).NormalizedScore < score - BandTolerance)
                {
                    break;
                }

                edge = t;
            }

            return edge;
        }

        return new ThresholdBand(profiles[profile].Name, BandTolerance, optimum, Edge(-1), Edge(1));
    }

    /// <summary>The candidate with the best criterion on the folds of <paramref name="training"/>.</summary>
    private int Select(long training) => Best(Criteria(training));

    /// <summary>
    /// The one-standard-error rule: the first candidate (candidates are listed in order of preference) whose pooled
    /// criterion is within one standard error of the best one, the standard error being that of the best candidate's
    /// fold scores. A candidate that is better by less than the folds' noise is not preferred over an earlier one.
    /// </summary>
    private int Best(Criterion[] criteria)
    {
        var best = 0;
        for (var i = 1; i < criteria.Length; i++)
        {
            if (criteria[i].Pooled > criteria[best].Pooled)
            {
                best = i;
            }
        }

        if (!OneStandardError)
        {
            return best;
        }

        var bar = criteria[best].Pooled - criteria[best].StandardError;
        for (var i = 0; i < criteria.Length; i++)
        {
            if (criteria[i].Pooled >= bar)
            {
                return i;
            }
        }

        return best;
    }

    /// <summary>Every candidate's pooled and mean cross-validated selection-profile score over the folds of <paramref name="training"/>.</summary>
    private Criterion[] Criteria(long training)
    {
        var inner = Enumerable.Range(0, folds.Count).Where(i => (training & (1L << i)) != 0).ToArray();
        if (inner.Length < 2)
        {
            // One training fold cannot be split: every candidate is fitted and judged on it.
            return [.. Enumerable.Range(0, candidates.Count).Select(c =>
            {
                var outcome = Score(c, inner[0], selection, Threshold(c, ~training & all, selection));
                return new Criterion(outcome.NormalizedScore, outcome.NormalizedScore, 0.0);
            })];
        }

        var work = candidates.Select((_, c) => c).SelectMany(c => inner.Select(i => (Candidate: c, Fold: i))).ToArray();
        var outcomes = new FoldProfileOutcome[work.Length];
        Parallel.For(0, work.Length, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, w =>
        {
            var (c, i) = work[w];
            var excluded = (~training & all) | (1L << i);
            outcomes[w] = Judged == SelectionCriterion.Robust
                ? Averaged([.. RobustShifts.Select(shift => Score(c, i, selection, Threshold(c, excluded, selection) + shift))])
                : Score(c, i, selection, Threshold(c, excluded, selection));
        });
        var criteria = new Criterion[candidates.Count];
        for (var c = 0; c < candidates.Count; c++)
        {
            var scores = outcomes.Skip(c * inner.Length).Take(inner.Length).Select(o => o.NormalizedScore).ToList();
            var mine = outcomes.Skip(c * inner.Length).Take(inner.Length).ToList();
            var mean = scores.Average();
            var deviation = Math.Sqrt(scores.Sum(x => (x - mean) * (x - mean)) / (scores.Count - 1));
            criteria[c] = new Criterion(
                NabScorer.Normalize(mine.Sum(o => o.Score), mine.Sum(o => o.NullScore), mine.Sum(o => o.PerfectScore)),
                mean,
                deviation / Math.Sqrt(scores.Count));
        }

        return criteria;
    }

    /// <summary>A candidate's criterion on a set of folds: pooled and mean cross-validated scores and the standard error of the mean.</summary>
    private readonly record struct Criterion(double Pooled, double Mean, double StandardError);

    /// <summary>Outcomes of one fold at several thresholds as one: raw, null and perfect scores averaged (the counts are the first outcome's).</summary>
    private static FoldProfileOutcome Averaged(IReadOnlyList<FoldProfileOutcome> outcomes) =>
        outcomes[0] with
        {
            Score = outcomes.Average(o => o.Score),
            NullScore = outcomes.Average(o => o.NullScore),
            PerfectScore = outcomes.Average(o => o.PerfectScore),
        };

    /// <summary>Fold <paramref name="fold"/> scored for every profile at thresholds fitted without it (moved by <paramref name="shift"/>).</summary>
    private FoldOutcome HeldOut(int candidate, int fold, double shift = 0.0)
    {
        var outcomes = profiles.Select((_, k) => Score(candidate, fold, k, Threshold(candidate, 1L << fold, k) + shift)).ToList();
        return new FoldOutcome(folds[fold].Name, folds[fold].Files.Count, folds[fold].WindowCount, candidates[candidate].Name, outcomes);
    }

    /// <summary>The threshold fitted by <see cref="Rule"/> for a candidate and profile on the files of the folds not in <paramref name="excluded"/>.</summary>
    private double Threshold(int candidate, long excluded, int profile) =>
        thresholds.GetOrAdd((candidate, excluded, profile), key =>
        {
            var curve = curves.GetOrAdd((key.Candidate, key.Profile), k => new ThresholdCurves(corpus, results[k.Candidate], profiles[k.Profile]));
            var training = foldOfFile.Select(f => (key.Excluded & (1L << f)) == 0 ? 1.0 : 0.0).ToArray();
            return curve.Fit(training, Rule, unchecked((int)(key.Excluded * 2654435761L)));
        });

    private FoldProfileOutcome Score(int candidate, int fold, int profile, double threshold)
    {
        var p = profiles[profile];
        double score = 0;
        var counts = default(DetectionCounts);
        foreach (var file in folds[fold].Files)
        {
            var fileScore = NabScorer.ScoreFile(file, results[candidate].ScoresFor(file.RelativePath), p, threshold);
            score += fileScore.Score;
            counts += fileScore.Counts;
        }

        return new FoldProfileOutcome(
            p.Name,
            threshold,
            score,
            -p.FalseNegativeWeight * folds[fold].ScoredWindowCount,
            p.TruePositiveWeight * folds[fold].WindowCount,
            counts);
    }
}
