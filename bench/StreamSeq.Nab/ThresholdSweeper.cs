namespace StreamSeq.Nab;

/// <summary>
/// NAB's threshold sweep over a whole corpus: rows after probation are visited from the highest anomaly score down,
/// and the corpus score is recorded once per distinct score, so that entry t holds the score obtained when every
/// anomaly score at or above t is a detection.
/// </summary>
/// <remarks>
/// The first entry has threshold 1.1 (nothing detected: every scored window costs -fnWeight). Each window keeps the
/// best reward among its detected rows (the earliest detection, since rewards fall along a window); false positives
/// add up. Sorting once makes the sweep O(m log m) for m scored rows, plus O(W) per distinct threshold to total the W
/// window parts in the same way as NAB (which re-adds them at every threshold).
/// </remarks>
internal static class ThresholdSweeper
{
    /// <summary>NAB's starting threshold, above any anomaly score.</summary>
    internal const double NoDetectionThreshold = 1.1;

    internal static List<ThresholdScore> Sweep(NabCorpus corpus, DetectorResults results, CostProfile profile)
    {
        var rowCount = corpus.Files.Sum(f => f.RowCount - f.ProbationLength);
        var rows = new SweepRow[rowCount];
        var windowBest = new double[corpus.WindowCount];
        var scoredWindows = new List<int>();
        int inside = 0, outside = 0, next = 0, windowOffset = 0;
        foreach (var file in corpus.Files)
        {
            var scores = results.ScoresFor(file.RelativePath);
            if (scores.Length != file.RowCount)
            {
                throw new InvalidDataException($"Detector '{results.DetectorName}' has {scores.Length} anomaly scores for {file.RelativePath}, which has {file.RowCount} rows.");
            }

            var model = file.Rows;
            for (var w = 0; w < file.Windows.Count; w++)
            {
                if (model.FirstScoredRow[w] >= 0)
                {
                    windowBest[windowOffset + w] = -profile.FalseNegativeWeight;
                    scoredWindows.Add(windowOffset + w);
                }
            }

            for (var i = model.ProbationLength; i < file.RowCount; i++)
            {
                var window = model.WindowIndex[i];
                if (window >= 0)
                {
                    inside++;
                }
                else
                {
                    outside++;
                }

                rows[next] = new SweepRow(scores[i], model.Reward(i, profile), window < 0 ? -1 : windowOffset + window, next);
                next++;
            }

            windowOffset += file.Windows.Count;
        }

        Array.Sort(rows, SweepRowOrder.Instance);

        var sweep = new List<ThresholdScore>();
        double falsePositiveSum = 0;
        int tp = 0, fp = 0, tn = outside, fn = inside;
        var current = NoDetectionThreshold;
        foreach (ref readonly var row in rows.AsSpan())
        {
            if (row.AnomalyScore != current)
            {
                sweep.Add(Snapshot(current));
                current = row.AnomalyScore;
            }

            if (row.Window >= 0)
            {
                tp++;
                fn--;
                windowBest[row.Window] = Math.Max(windowBest[row.Window], row.Reward);
            }
            else
            {
                fp++;
                tn--;
                falsePositiveSum += row.Reward;
            }
        }

        sweep.Add(Snapshot(current));
        return sweep;

        ThresholdScore Snapshot(double threshold)
        {
            var total = falsePositiveSum;
            foreach (var w in scoredWindows)
            {
                total += windowBest[w];
            }

            return new ThresholdScore(threshold, total, new DetectionCounts(tp, tn, fp, fn));
        }
    }

    /// <summary>The highest-scoring entry; among equal scores the first, i.e. the highest threshold (as NAB's stable sort).</summary>
    internal static ThresholdScore Best(List<ThresholdScore> sweep)
    {
        var best = sweep[0];
        foreach (var entry in sweep)
        {
            if (entry.Score > best.Score)
            {
                best = entry;
            }
        }

        return best;
    }

    private readonly record struct SweepRow(double AnomalyScore, double Reward, int Window, int Order);

    /// <summary>Descending anomaly score; equal scores keep corpus row order (NAB's sort is stable).</summary>
    private sealed class SweepRowOrder : IComparer<SweepRow>
    {
        internal static readonly SweepRowOrder Instance = new();

        public int Compare(SweepRow x, SweepRow y)
        {
            var byScore = y.AnomalyScore.CompareTo(x.AnomalyScore);
            return byScore != 0 ? byScore : x.Order.CompareTo(y.Order);
        }
    }
}
