using System.Globalization;
using System.Text;

namespace StreamSeq.Nab;

/// <summary>Renders NAB results as Markdown: detectors side by side per profile, raw totals, and per-category breakdowns.</summary>
public static class NabReport
{
    /// <summary>
    /// Renders a report for several detectors scored on the same corpus and profiles: a table of normalised scores
    /// (one column per profile), a table of raw totals with thresholds and row counts, and one per-category table per
    /// profile (normalised score with the raw score in brackets; "n/a" where a category has no window).
    /// </summary>
    public static string RenderMarkdown(IReadOnlyList<DetectorScore> detectors)
    {
        ArgumentNullException.ThrowIfNull(detectors);
        if (detectors.Count == 0)
        {
            throw new ArgumentException("Nothing to report: no detector results.", nameof(detectors));
        }

        var profiles = detectors.SelectMany(d => d.Profiles.Select(p => p.Profile.Name)).Distinct().ToList();
        var text = new StringBuilder();
        text.AppendLine("## NAB scores").AppendLine();
        text.AppendLine("Normalised score 100 (S - S_null) / (S_perfect - S_null): 0 is the null detector, 100 a detector that flags every window at its first row.").AppendLine();
        text.Append("| Detector |");
        foreach (var profile in profiles)
        {
            text.Append(' ').Append(profile).Append(" |");
        }

        text.AppendLine().Append("| --- |").Append(string.Concat(Enumerable.Repeat(" ---: |", profiles.Count))).AppendLine();
        foreach (var detector in detectors)
        {
            text.Append("| ").Append(detector.DetectorName).Append(" |");
            foreach (var profile in profiles)
            {
                var result = Find(detector, profile);
                text.Append(' ').Append(result is null ? "-" : Format(result.NormalizedScore, "F2")).Append(" |");
            }

            text.AppendLine();
        }

        text.AppendLine().AppendLine("### Raw totals").AppendLine();
        text.AppendLine("| Detector | Profile | Threshold | Threshold from | S | S_null | S_perfect | TP rows | TN rows | FP rows | FN rows |");
        text.AppendLine("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var detector in detectors)
        {
            foreach (var result in detector.Profiles)
            {
                text.Append("| ").Append(detector.DetectorName)
                    .Append(" | ").Append(result.Profile.Name)
                    .Append(" | ").Append(Format(result.Threshold, "G10"))
                    .Append(" | ").Append(result.ThresholdOptimized ? "optimised here" : "given")
                    .Append(" | ").Append(Format(result.Score, "F4"))
                    .Append(" | ").Append(Format(result.NullScore, "F4"))
                    .Append(" | ").Append(Format(result.PerfectScore, "F4"))
                    .Append(" | ").Append(Format(result.Counts.TruePositives))
                    .Append(" | ").Append(Format(result.Counts.TrueNegatives))
                    .Append(" | ").Append(Format(result.Counts.FalsePositives))
                    .Append(" | ").Append(Format(result.Counts.FalseNegatives))
                    .AppendLine(" |");
            }
        }

        foreach (var profile in profiles)
        {
            AppendCategories(text, detectors, profile);
        }

        return text.ToString();
    }

    /// <summary>Renders one profile's per-file scores (the rows of NAB's *_scores.csv) as a Markdown table.</summary>
    public static string RenderFiles(string detectorName, ProfileScore result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = new StringBuilder();
        text.Append("### ").Append(detectorName).Append(", ").Append(result.Profile.Name)
            .Append(", threshold ").AppendLine(Format(result.Threshold, "G10")).AppendLine();
        text.AppendLine("| File | Score | TP | TN | FP | FN | Rows |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var file in result.Files)
        {
            text.Append("| ").Append(file.RelativePath)
                .Append(" | ").Append(Format(file.Score, "F6"))
                .Append(" | ").Append(Format(file.Counts.TruePositives))
                .Append(" | ").Append(Format(file.Counts.TrueNegatives))
                .Append(" | ").Append(Format(file.Counts.FalsePositives))
                .Append(" | ").Append(Format(file.Counts.FalseNegatives))
                .Append(" | ").Append(Format(file.RowCount))
                .AppendLine(" |");
        }

        text.Append("| Totals | ").Append(Format(result.Score, "F6"))
            .Append(" | ").Append(Format(result.Counts.TruePositives))
            .Append(" | ").Append(Format(result.Counts.TrueNegatives))
            .Append(" | ").Append(Format(result.Counts.FalsePositives))
            .Append(" | ").Append(Format(result.Counts.FalseNegatives))
            .Append(" | ").Append(Format(result.Files.Sum(f => f.RowCount)))
            .AppendLine(" |");
        return text.ToString();
    }

    private static void AppendCategories(StringBuilder text, IReadOnlyList<DetectorScore> detectors, string profile)
    {
        var results = detectors.Select(d => Find(d, profile)).ToList();
        var categories = results.OfType<ProfileScore>().SelectMany(r => r.Categories).ToList();
        var names = categories.Select(c => c.Category).Distinct().ToList();
        text.AppendLine().Append("### Per category, ").AppendLine(profile).AppendLine();
        text.Append("| Category | Files | Windows |");
        foreach (var detector in detectors)
        {
            text.Append(' ').Append(detector.DetectorName).Append(" |");
        }

        text.AppendLine().Append("| --- | ---: | ---: |").Append(string.Concat(Enumerable.Repeat(" ---: |", detectors.Count))).AppendLine();
        foreach (var name in names)
        {
            var any = categories.First(c => c.Category == name);
            text.Append("| ").Append(name.Length == 0 ? "(root)" : name)
                .Append(" | ").Append(Format(any.FileCount))
                .Append(" | ").Append(Format(any.WindowCount)).Append(" |");
            foreach (var result in results)
            {
                var category = result?.Categories.FirstOrDefault(c => c.Category == name);
                text.Append(' ').Append(category is null ? "-" : FormatCategory(category)).Append(" |");
            }

            text.AppendLine();
        }
    }

    private static string FormatCategory(CategoryScore category) =>
        (category.NormalizedScore is { } normalized ? Format(normalized, "F2") : "n/a")
        + " (S " + Format(category.Score, "F3") + ")";

    private static ProfileScore? Find(DetectorScore detector, string profile) =>
        detector.Profiles.FirstOrDefault(p => string.Equals(p.Profile.Name, profile, StringComparison.Ordinal));

    private static string Format(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Format(int value) => value.ToString(CultureInfo.InvariantCulture);
}
