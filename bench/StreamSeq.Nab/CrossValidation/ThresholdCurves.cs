namespace StreamSeq.Nab.CrossValidation;

/// <summary>
/// Every file's NAB score as a step function of the threshold, for one detector and profile, merged so that NAB's
/// threshold sweep over any weighted set of files is one pass without sorting: the sweeps of a cross-validation (one
/// per training set, or per bootstrap resample) then cost O(rows) each.
/// </summary>
/// <remarks>
/// A file's score at threshold t is its false-positive costs plus each scored window's best reward among the rows
/// at or above t (or -fnWeight). Lowering t past a row's score changes only that file's score, so the sweep over a
/// weighted set of files walks the rows of all files from the highest score down, adding weight times the change of
/// the file's score, and records the total once per distinct score, as NAB's sweep does (the first entry is 1.1:
/// nothing detected). The best entry is the highest total, the highest threshold among equal totals.
/// </remarks>
public sealed class ThresholdCurves
{
    private readonly double[] thresholds;
    private readonly int[] files;
    private readonly double[] deltas;
    private readonly double[] startScores;

    /// <summary>Builds the curves of <paramref name="results"/> on the files of <paramref name="corpus"/> under <paramref name="profile"/>.</summary>
    public ThresholdCurves(NabCorpus corpus, DetectorResults results, CostProfile profile)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(profile);
        Files = corpus.Files;
        var rows = new List<(double Score, int File, int Row)>();
        startScores = new double[Files.Count];
        for (var f = 0; f < Files.Count; f++)
        {
            var file = Files[f];
            var scores = results.ScoresFor(file.RelativePath);
            if (scores.Length != file.RowCount)
            {
                throw new InvalidDataException($"Detector '{results.DetectorName}' has {scores.Length} anomaly scores for {file.RelativePath}, which has {file.RowCount} rows.");
            }

            startScores[f] = -profile.FalseNegativeWeight * file.ScoredWindowCount;
            for (var i = file.ProbationLength; i < file.RowCount; i++)
            {
                rows.Add((scores[i], f, i));
            }
        }

        // Descending score; equal scores keep file and row order, as NAB's stable sort of the corpus rows does.
        rows.Sort((x, y) =>
        {
            var byScore = y.Score.CompareTo(x.Score);
            return byScore != 0 ? byScore : (x.File != y.File ? x.File.CompareTo(y.File) : x.Row.CompareTo(y.Row));
        });
        thresholds = new double[rows.Count];
        files = new int[rows.Count];
        deltas = new double[rows.Count];
        var best = Files.Select(f => Enumerable.Repeat(-profile.FalseNegativeWeight, f.Windows.Count).ToArray()).ToArray();
        for (var k = 0; k < rows.Count; k++)
        {
            var (score, f, i) = rows[k];
            var model = Files[f].Rows;
            var window = model.WindowIndex[i];
            var reward = model.Reward(i, profile);
            double delta;
            if (window < 0)
            {
                delta = reward;
            }
            else
            {
                var improved = Math.Max(best[f][window], reward);
                delta = model.FirstScoredRow[window] >= 0 ? improved - best[f][window] : 0.0;
                best[f][window] = improved;
            }

            thresholds[k] = score;
            files[k] = f;
            deltas[k] = delta;
        }
    }

    /// <summary>Bootstrap resamples behind a <see cref="ThresholdRule.Bagged"/> threshold.</summary>
    public const int BootstrapResamples = 200;

    /// <summary>The files, in the corpus order that <see cref="Best"/>'s weights follow.</summary>
    public IReadOnlyList<NabDataFile> Files { get; }

    /// <summary>
    /// NAB's optimal threshold for the files weighted by <paramref name="weights"/> (0 leaves a file out; a bootstrap
    /// resample repeats files): the threshold with the highest weighted total, the highest one among ties.
    /// </summary>
    /// <exception cref="ArgumentException">One weight per file is needed.</exception>
    public ThresholdScore Best(ReadOnlySpan<double> weights)
    {
        if (weights.Length != Files.Count)
        {
            throw new ArgumentException($"{weights.Length} weights for {Files.Count} files.", nameof(weights));
        }

        var total = 0.0;
        for (var f = 0; f < startScores.Length; f++)
        {
            total += weights[f] * startScores[f];
        }

        var bestThreshold = ThresholdSweeper.NoDetectionThreshold;
        var bestTotal = total;
        var current = ThresholdSweeper.NoDetectionThreshold;
        for (var k = 0; k < thresholds.Length; k++)
        {
            if (thresholds[k] != current)
            {
                if (total > bestTotal)
                {
                    (bestTotal, bestThreshold) = (total, current);
                }

                current = thresholds[k];
            }

            total += weights[files[k]] * deltas[k];
        }

        if (total > bestTotal)
        {
            (bestTotal, bestThreshold) = (total, current);
        }

        return new ThresholdScore(bestThreshold, bestTotal, default);
    }

    /// <summary>
    /// The threshold t, among NAB's candidates (every distinct score after probation, and 1.1), that maximises the weighted total
    /// averaged over t + s for each shift s; the highest such t among ties.
    /// </summary>
    /// <exception cref="ArgumentException">One weight per file is needed.</exception>
    public double Smoothed(ReadOnlySpan<double> weights, IReadOnlyList<double> shifts)
    {
        ArgumentNullException.ThrowIfNull(shifts);
        if (weights.Length != Files.Count)
        {
            throw new ArgumentException($"{weights.Length} weights for {Files.Count} files.", nameof(weights));
        }

        // cumulative[j]: the total with the first j rows (highest scores first) detected.
        var cumulative = new double[thresholds.Length + 1];
        for (var f = 0; f < startScores.Length; f++)
        {
            cumulative[0] += weights[f] * startScores[f];
        }

        for (var k = 0; k < thresholds.Length; k++)
        {
            cumulative[k + 1] = cumulative[k] + (weights[files[k]] * deltas[k]);
        }

        var best = ThresholdSweeper.NoDetectionThreshold;
        var bestTotal = Averaged(ThresholdSweeper.NoDetectionThreshold);
        for (var k = 0; k < thresholds.Length; k++)
        {
            if (k > 0 && thresholds[k] == thresholds[k - 1])
            {
                continue;
            }

            var total = Averaged(thresholds[k]);
            if (total > bestTotal)
            {
                (bestTotal, best) = (total, thresholds[k]);
            }
        }

        return best;

        double Averaged(double threshold)
        {
            var sum = 0.0;
            foreach (var shift in shifts)
            {
                sum += cumulative[Detected(threshold + shift)];
            }

            return sum / shifts.Count;
        }
    }

    /// <summary>The number of rows whose score is at or above <paramref name="threshold"/> (the scores are sorted in descending order).</summary>
    private int Detected(double threshold)
    {
        int low = 0, high = thresholds.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (thresholds[middle] >= threshold)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    /// <summary>
    /// The threshold fitted on the files with positive <paramref name="weights"/> by <paramref name="rule"/>: NAB's
    /// optimum on them, or the median of the optima over <see cref="BootstrapResamples"/> resamples of those files with
    /// replacement, drawn from <paramref name="seed"/> (so a fit repeats exactly).
    /// </summary>
    /// <exception cref="ArgumentException">One weight per file is needed.</exception>
    public double Fit(ReadOnlySpan<double> weights, ThresholdRule rule, int seed)
    {
        if (weights.Length != Files.Count)
        {
            throw new ArgumentException($"{weights.Length} weights for {Files.Count} files.", nameof(weights));
        }

        var members = new List<int>();
        for (var i = 0; i < weights.Length; i++)
        {
            if (weights[i] > 0.0)
            {
                members.Add(i);
            }
        }

        if (rule == ThresholdRule.Optimal || members.Count == 0)
        {
            return Best(weights).Threshold;
        }

        if (rule == ThresholdRule.Smoothed)
        {
            return Smoothed(weights, CrossValidator.RobustShifts);
        }

        var random = new Random(seed);
        var resample = new double[weights.Length];
        var fitted = new double[BootstrapResamples];
        for (var b = 0; b < fitted.Length; b++)
        {
            Array.Clear(resample);
            for (var d = 0; d < members.Count; d++)
            {
                resample[members[random.Next(members.Count)]] += 1.0;
            }

            fitted[b] = Best(resample).Threshold;
        }

        Array.Sort(fitted);
        return fitted[fitted.Length / 2];
    }
}
