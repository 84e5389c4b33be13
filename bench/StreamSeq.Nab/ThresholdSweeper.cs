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

    /// <summary>
    /// Runs the sweep and returns its best entry (the highest score; among equal scores the first, i.e. the highest
    /// threshold, as NAB's stable sort keeps). Every entry is also appended to <paramref name="entries"/> when given.
    /// </summary>
    internal static ThresholdScore Sweep(NabCorpus corpus, DetectorResults results, CostProfile profile, List<ThresholdScore>? entries = null)
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

        ThresholdScore? best = null;
        double falsePositiveSum = 0;
        int tp = 0, fp = 0, tn = outside, fn = inside;
        var current = NoDetectionThreshold;
        foreach (ref readonly var row in rows.AsSpan())
        {
            if (row.AnomalyScore != current)
            {
                Record(current);
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

        Record(current);
        return best!;

        void Record(double threshold)
        {
            var total = falsePositiveSum;
            foreach (var w in scoredWindows)
            {
                total += windowBest[w];
            }

            if (entries is null && best is not null && total <= best.Score)
            {
                return;
            }

            var entry = new ThresholdScore(threshold, total, new DetectionCounts(tp, tn, fp, fn));
            entries?.Add(entry);
            if (best is null || total > best.Score)
            {
                best = entry;
            }
        }
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
