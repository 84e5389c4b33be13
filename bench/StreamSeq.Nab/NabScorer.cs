namespace StreamSeq.Nab;

/// <summary>
/// Scores anomaly detectors on a NAB corpus with NAB's rules: probation, window rewards through the scaled sigmoid,
/// cost profiles, the corpus-wide threshold sweep and the null/perfect normalisation.
/// </summary>
/// <remarks>
/// For a file of n rows, rows i &lt; min(floor(0.15 n), 750) are probationary and ignored. A row is a detection when
/// its anomaly score is at or above the threshold. In each window (rows l..r, width w = r - l + 1) only the best,
/// i.e. earliest, detection counts: tpWeight * s(-(r - i + 1) / w) / s(-1); a window without one costs -fnWeight.
/// A detection outside windows costs fpWeight * s((i - r_prev) / (w_prev - 1)) after a window and -fpWeight before
/// any. s is <see cref="ScaledSigmoid"/>. The corpus score S is the sum over files; NAB reports
/// 100 (S - S_null) / (S_perfect - S_null), where S_null is the score of a detector that never detects
/// (-fnWeight per scored window) and S_perfect = tpWeight times the number of windows.
/// </remarks>
public sealed class NabScorer
{
    /// <summary>Fraction of each file that is probationary (NAB's probationaryPercent).</summary>
    public const double ProbationPercent = 0.15;

    /// <summary>Cap on the probationary rows: 0.15 * 5000.</summary>
    public const int MaxProbationRows = 750;

    /// <summary>Creates a scorer for a corpus and a set of profiles.</summary>
    public NabScorer(NabCorpus corpus, IReadOnlyList<CostProfile> profiles)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(profiles);
        if (profiles.Count == 0)
        {
            throw new ArgumentException("At least one cost profile is needed.", nameof(profiles));
        }

        Corpus = corpus;
        Profiles = [.. profiles];
    }

    /// <summary>The corpus scored.</summary>
    public NabCorpus Corpus { get; }

    /// <summary>The profiles scored, in order.</summary>
    public IReadOnlyList<CostProfile> Profiles { get; }

    /// <summary>Probationary rows of a file with <paramref name="rowCount"/> rows: min(floor(0.15 n), 750).</summary>
    public static int ProbationLength(int rowCount) =>
        (int)Math.Min(Math.Floor(ProbationPercent * rowCount), ProbationPercent * 5000);

    /// <summary>NAB's normalised score, 100 (S - S_null) / (S_perfect - S_null).</summary>
    public static double Normalize(double score, double nullScore, double perfectScore) =>
        100.0 * (score - nullScore) / (perfectScore - nullScore);

    /// <summary>Raw corpus score of the null detector, which never detects: -fnWeight per window scored after probation.</summary>
    public double NullScore(CostProfile profile) => NullScore(Corpus.Files, profile);

    /// <summary>NAB's perfect corpus score: tpWeight per labelled window.</summary>
    public double PerfectScore(CostProfile profile) => PerfectScore(Corpus.Files, profile);

    /// <summary>Scores one file at a threshold.</summary>
    /// <param name="file">The data file.</param>
    /// <param name="anomalyScores">One anomaly score per row.</param>
    /// <param name="profile">The cost profile.</param>
    /// <param name="threshold">Anomaly scores at or above it are detections.</param>
    /// <exception cref="ArgumentException">The number of scores differs from the file's rows.</exception>
    public static FileScore ScoreFile(NabDataFile file, ReadOnlySpan<double> anomalyScores, CostProfile profile, double threshold)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(profile);
        var windowBest = WindowOutcomes(file, anomalyScores, profile, threshold, out var falsePositiveSum, out var counts);
        var score = falsePositiveSum;
        for (var w = 0; w < windowBest.Length; w++)
        {
            if (file.Rows.FirstScoredRow[w] >= 0)
            {
                score += windowBest[w];
            }
        }

        return new FileScore(file.RelativePath, file.Category, threshold, score, counts, file.RowCount);
    }

    /// <summary>
    /// Splits a file's score over its rows as NAB's published results files do (their S(t)_profile columns): each
    /// false positive carries its cost on its own row, and each window's outcome (the earliest detection's reward, or
    /// -fnWeight) sits on the window's first row after probation. The rows sum to the file score.
    /// </summary>
    /// <exception cref="ArgumentException">The number of scores differs from the file's rows.</exception>
    public static double[] RowRewards(NabDataFile file, ReadOnlySpan<double> anomalyScores, CostProfile profile, double threshold)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(profile);
        var windowBest = WindowOutcomes(file, anomalyScores, profile, threshold, out _, out _);
        var model = file.Rows;
        var rewards = new double[file.RowCount];
        for (var i = model.ProbationLength; i < file.RowCount; i++)
        {
            if (model.WindowIndex[i] < 0 && anomalyScores[i] >= threshold)
            {
                rewards[i] = model.Reward(i, profile);
            }
        }

        for (var w = 0; w < windowBest.Length; w++)
        {
            if (model.FirstScoredRow[w] >= 0)
            {
                rewards[model.FirstScoredRow[w]] += windowBest[w];
            }
        }

        return rewards;
    }

    /// <summary>
    /// NAB's sweep: the corpus score at every candidate threshold, from 1.1 (nothing detected) down through each
    /// distinct anomaly score after probation (everything at or above it detected).
    /// </summary>
    public IReadOnlyList<ThresholdScore> SweepThresholds(DetectorResults results, CostProfile profile)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(profile);
        var entries = new List<ThresholdScore>();
        ThresholdSweeper.Sweep(Corpus, results, profile, entries);
        return entries;
    }

    /// <summary>NAB's optimiser: the sweep entry with the highest corpus score (the highest threshold among ties).</summary>
    public ThresholdScore OptimizeThreshold(DetectorResults results, CostProfile profile)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(profile);
        return ThresholdSweeper.Sweep(Corpus, results, profile);
    }

    /// <summary>Scores every corpus file at a given threshold and totals them, overall and per category.</summary>
    /// <exception cref="InvalidDataException">The results miss a file or have the wrong number of rows.</exception>
    public ProfileScore ScoreProfile(DetectorResults results, CostProfile profile, double threshold) =>
        ScoreProfile(results, profile, threshold, thresholdOptimized: false);

    /// <summary>
    /// Scores a detector under every profile. With <paramref name="thresholds"/> (profile name to threshold, e.g.
    /// from <see cref="NabThresholds.For"/>) those thresholds are used; without, each profile's threshold is
    /// optimised on this corpus.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="thresholds"/> lacks one of the profiles.</exception>
    public DetectorScore ScoreDetector(DetectorResults results, IReadOnlyDictionary<string, double>? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        results.EnsureCovers(Corpus);
        var profiles = new List<ProfileScore>(Profiles.Count);
        foreach (var profile in Profiles)
        {
            if (thresholds is null)
            {
                var best = OptimizeThreshold(results, profile);
                profiles.Add(ScoreProfile(results, profile, best.Threshold, thresholdOptimized: true));
            }
            else if (thresholds.TryGetValue(profile.Name, out var threshold))
            {
                profiles.Add(ScoreProfile(results, profile, threshold, thresholdOptimized: false));
            }
            else
            {
                throw new ArgumentException($"No threshold for profile '{profile.Name}' of detector '{results.DetectorName}'.", nameof(thresholds));
            }
        }

        return new DetectorScore(results.DetectorName, profiles);
    }

    /// <summary>
    /// Loads a detector's results from <paramref name="resultsFolder"/> (NAB's layout,
    /// <c>&lt;detector&gt;/&lt;category&gt;/&lt;detector&gt;_&lt;name&gt;.csv</c> with timestamp, value and anomaly_score
    /// columns) and scores them as <see cref="ScoreDetector(DetectorResults, IReadOnlyDictionary{string, double}?)"/>.
    /// </summary>
    public DetectorScore ScoreDetector(string resultsFolder, string detectorName, IReadOnlyDictionary<string, double>? thresholds = null) =>
        ScoreDetector(DetectorResults.Load(resultsFolder, detectorName, Corpus), thresholds);

    private ProfileScore ScoreProfile(DetectorResults results, CostProfile profile, double threshold, bool thresholdOptimized)
    {
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(profile);
        results.EnsureCovers(Corpus);
        var files = new List<FileScore>(Corpus.Files.Count);
        var counts = default(DetectionCounts);
        double total = 0;
        foreach (var file in Corpus.Files)
        {
            var fileScore = ScoreFile(file, results.ScoresFor(file.RelativePath), profile, threshold);
            files.Add(fileScore);
            total += fileScore.Score;
            counts += fileScore.Counts;
        }

        var categories = new List<CategoryScore>(Corpus.Categories.Count);
        foreach (var category in Corpus.Categories)
        {
            var inCategory = Corpus.Files.Where(f => f.Category == category).ToList();
            var score = files.Where(f => f.Category == category).Sum(f => f.Score);
            categories.Add(new CategoryScore(
                category,
                inCategory.Count,
                inCategory.Sum(f => f.Windows.Count),
                score,
                NullScore(inCategory, profile),
                PerfectScore(inCategory, profile)));
        }

        return new ProfileScore(profile, threshold, thresholdOptimized, total, NullScore(profile), PerfectScore(profile), counts, files, categories);
    }

    private static double NullScore(IEnumerable<NabDataFile> files, CostProfile profile) =>
        -profile.FalseNegativeWeight * files.Sum(f => f.ScoredWindowCount);

    private static double PerfectScore(IEnumerable<NabDataFile> files, CostProfile profile) =>
        profile.TruePositiveWeight * files.Sum(f => f.Windows.Count);

    /// <summary>Each window's outcome (best detection reward or -fnWeight), the false-positive sum and the counts.</summary>
    private static double[] WindowOutcomes(
        NabDataFile file, ReadOnlySpan<double> anomalyScores, CostProfile profile, double threshold,
        out double falsePositiveSum, out DetectionCounts counts)
    {
        if (anomalyScores.Length != file.RowCount)
        {
            throw new ArgumentException($"{file.RelativePath}: {anomalyScores.Length} anomaly scores for {file.RowCount} rows.", nameof(anomalyScores));
        }

        var model = file.Rows;
        var windowBest = new double[file.Windows.Count];
        Array.Fill(windowBest, -profile.FalseNegativeWeight);
        falsePositiveSum = 0;
        int tp = 0, tn = 0, fp = 0, fn = 0;
        for (var i = model.ProbationLength; i < file.RowCount; i++)
        {
            var detected = anomalyScores[i] >= threshold;
            var window = model.WindowIndex[i];
            if (window >= 0)
            {
                if (detected)
                {
                    tp++;
                    windowBest[window] = Math.Max(windowBest[window], model.Reward(i, profile));
                }
                else
                {
                    fn++;
                }
            }
            else if (detected)
            {
                fp++;
                falsePositiveSum += model.Reward(i, profile);
            }
            else
            {
                tn++;
            }
        }

        counts = new DetectionCounts(tp, tn, fp, fn);
        return windowBest;
    }
}
