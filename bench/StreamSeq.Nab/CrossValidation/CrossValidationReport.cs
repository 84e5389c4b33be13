using System.Globalization;
using System.Text;

namespace StreamSeq.Nab.CrossValidation;

/// <summary>Renders a <see cref="CrossValidationResult"/> as Markdown.</summary>
public static class CrossValidationReport
{
    /// <summary>
    /// The nested estimate (per fold, mean, pooled and worst), the shipped candidate with its in-sample and
    /// threshold-only cross-validated scores and their gap, and every candidate's criterion.
    /// </summary>
    public static string RenderMarkdown(CrossValidationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var profiles = result.InSample.Select(p => p.Profile.Name).ToList();
        var text = new StringBuilder();
        text.Append("## Cross-validation: ").AppendLine(result.Scheme).AppendLine();
        text.Append("Selection criterion: pooled cross-validated ").Append(result.SelectionProfile)
            .Append(result.Criterion == SelectionCriterion.Robust ? " score averaged over thresholds moved by -0.02 .. +0.02" : " score")
            .Append(" inside the training folds, ").Append(result.OneStandardError ? "one-standard-error rule" : "best criterion").Append(". ").Append(Format(result.Candidates.Count))
            .AppendLine(result.Candidates.Count == 1 ? " candidate (thresholds only are selected)." : " candidates.").AppendLine();

        text.AppendLine("### Nested estimate (candidate and thresholds chosen without the held-out fold)").AppendLine();
        AppendFolds(text, result.Nested, profiles);

        text.Append("### Shipped configuration: ").AppendLine(result.Shipped).AppendLine();
        text.AppendLine("| Profile | Threshold (all files) | In-sample | Cross-validated, mean of folds | Pooled | Worst fold | Gap (in-sample - mean) |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | --- | ---: |");
        foreach (var inSample in result.InSample)
        {
            var name = inSample.Profile.Name;
            var worst = result.ShippedFolds.Worst(name);
            var mean = result.ShippedFolds.Mean(name);
            text.Append("| ").Append(name)
                .Append(" | ").Append(Format(inSample.Threshold, "F6"))
                .Append(" | ").Append(Format(inSample.NormalizedScore, "F2"))
                .Append(" | ").Append(Format(mean, "F2"))
                .Append(" | ").Append(Format(result.ShippedFolds.Pooled(name), "F2"))
                .Append(" | ").Append(worst.Fold).Append(' ').Append(Format(worst.ForProfile(name).NormalizedScore, "F2"))
                .Append(" | ").Append(Format(inSample.NormalizedScore - mean, "F2"))
                .AppendLine(" |");
        }

        text.AppendLine().AppendLine("Shipped configuration, thresholds chosen without the held-out fold:").AppendLine();
        AppendFolds(text, result.ShippedFolds, profiles);

        AppendSensitivity(text, result, profiles);

        text.AppendLine("### Candidates (criterion over all folds)").AppendLine();
        text.Append("| Candidate | CV pooled | CV mean of folds | SE | In-sample | Chosen for folds |").AppendLine();
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | --- |");
        foreach (var candidate in result.Candidates)
        {
            var chosenFor = result.Nested.Folds.Where(f => f.Candidate == candidate.Candidate).Select(f => f.Fold).ToList();
            text.Append("| ").Append(candidate.Candidate == result.Shipped ? "**" + candidate.Candidate + "**" : candidate.Candidate)
                .Append(" | ").Append(Format(candidate.Pooled, "F2"))
                .Append(" | ").Append(Format(candidate.Mean, "F2"))
                .Append(" | ").Append(Format(candidate.StandardError, "F2"))
                .Append(" | ").Append(Format(candidate.InSample, "F2"))
                .Append(" | ").Append(chosenFor.Count == 0 ? "-" : string.Join(", ", chosenFor))
                .AppendLine(" |");
        }

        return text.ToString();
    }

    private static void AppendSensitivity(StringBuilder text, CrossValidationResult result, List<string> profiles)
    {
        text.AppendLine("### Threshold sensitivity of the shipped configuration").AppendLine();
        text.AppendLine("Every threshold moved by the shift: in-sample (threshold fitted on all files) and cross-validated (each fold's threshold fitted on the others), mean of folds / pooled.").AppendLine();
        text.Append("| Shift |");
        foreach (var profile in profiles)
        {
            text.Append(' ').Append(profile).Append(" in-sample | ").Append(profile).Append(" CV mean / pooled |");
        }

        text.AppendLine();
        text.Append("| ---: |").Append(string.Concat(Enumerable.Repeat(" ---: | ---: |", profiles.Count))).AppendLine();
        foreach (var shift in result.Sensitivity.Select(s => s.Shift).Distinct())
        {
            text.Append("| ").Append(Format(shift, "+0.00;-0.00;0")).Append(" |");
            foreach (var profile in profiles)
            {
                var s = result.Sensitivity.First(x => x.Shift == shift && x.Profile == profile);
                text.Append(' ').Append(Format(s.InSample, "F2")).Append(" | ").Append(Format(s.CrossValidatedMean, "F2")).Append(" / ").Append(Format(s.CrossValidatedPooled, "F2")).Append(" |");
            }

            text.AppendLine();
        }

        text.AppendLine();
        foreach (var band in result.Bands)
        {
            text.Append("Near-optimal band (").Append(band.Profile).Append(", in-sample within ").Append(Format(band.Tolerance, "F0"))
                .Append(" points of the in-sample optimum ").Append(Format(band.Optimum, "F2")).Append(", around the shipped threshold): ").Append(Format(band.Low, "F4")).Append(" to ").Append(Format(band.High, "F4"))
                .Append(", width ").Append(Format(band.Width, "F4")).AppendLine(".");
        }

        text.AppendLine();
    }

    private static void AppendFolds(StringBuilder text, CrossValidatedScores scores, List<string> profiles)
    {
        text.Append("| Fold | Files | Windows | Candidate |");
        foreach (var profile in profiles)
        {
            text.Append(' ').Append(profile).Append(" |");
        }

        text.Append(" Thresholds | FP rows (").Append(profiles[0]).AppendLine(") |");
        text.Append("| --- | ---: | ---: | --- |").Append(string.Concat(Enumerable.Repeat(" ---: |", profiles.Count))).AppendLine(" --- | ---: |");
        foreach (var fold in scores.Folds)
        {
            text.Append("| ").Append(fold.Fold)
                .Append(" | ").Append(Format(fold.FileCount))
                .Append(" | ").Append(Format(fold.WindowCount))
                .Append(" | ").Append(fold.Candidate).Append(" |");
            foreach (var profile in profiles)
            {
                text.Append(' ').Append(Format(fold.ForProfile(profile).NormalizedScore, "F2")).Append(" |");
            }

            text.Append(' ').Append(string.Join(" / ", fold.Profiles.Select(p => Format(p.Threshold, "F4"))))
                .Append(" | ").Append(Format(fold.ForProfile(profiles[0]).Counts.FalsePositives)).AppendLine(" |");
        }

        AppendSummary(text, "Mean of folds", profiles, scores.Mean);
        AppendSummary(text, "Pooled", profiles, scores.Pooled);
        text.Append("| Worst fold | | | |");
        foreach (var profile in profiles)
        {
            var worst = scores.Worst(profile);
            text.Append(' ').Append(worst.Fold).Append(' ').Append(Format(worst.ForProfile(profile).NormalizedScore, "F2")).Append(" |");
        }

        text.AppendLine(" | |").AppendLine();
    }

    private static void AppendSummary(StringBuilder text, string label, List<string> profiles, Func<string, double> value)
    {
        text.Append("| **").Append(label).Append("** | | | |");
        foreach (var profile in profiles)
        {
            text.Append(" **").Append(Format(value(profile), "F2")).Append("** |");
        }

        text.AppendLine(" | |");
    }

    private static string Format(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Format(int value) => value.ToString(CultureInfo.InvariantCulture);
}
