using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Detection;

namespace StreamSeq.Nab.CrossValidation;

/// <summary>The <c>cv</c> command: selection of the detector's settings and thresholds by cross-validation.</summary>
internal static class CrossValidationCommand
{
    internal const string Usage =
        """
        usage: StreamSeq.Nab cv --data <nab data dir> --labels <combined_windows.json> --profiles <profiles.json>
                                [--candidates <candidates.json>] [--folds files:K|category] [--thresholds smoothed|bagged|optimal]
                                [--selection-profile standard] [--cache <dir>] [--parallel N] [--json <output.json>]
                                [--report <output.md>] [--write-config <defaults.json>]
                                [--selection one-standard-error|best] [--criterion pooled|robust]
                                [--results <results root> --detector <name>]

          --candidates    detector configurations to choose from ({"base": {...}, "candidates": [{"name", "settings"}]});
                          without it, the detector's shipped settings (only thresholds are selected).
          --folds         'files:K': K folds of files dealt round-robin within each category (default files:5);
                          'category': leave one category out.
          --thresholds    'smoothed' (default): the threshold whose summed score on the training files, averaged
                          over the threshold moved by -0.02 .. +0.02, is best (the middle of a plateau, not the top of
                          a narrow peak); 'bagged': median of NAB's optimal thresholds over bootstrap resamples of
                          the training files; 'optimal': NAB's optimiser on the training files.
          --cache         folder for per-file detector outputs, keyed by settings, detector code and data.
          --parallel      detector files and threshold sweeps run at once (default 1).
          --write-config  write the shipped configuration (the chosen candidate's settings and the thresholds fitted on
                          every file) in the format of the detector's defaults file.
          --selection     'one-standard-error' (default): the first candidate within one standard error of the best
                          criterion; 'best': the best criterion.
          --criterion     'pooled' (default): a candidate's pooled cross-validated score inside the training folds;
                          'robust': the same averaged over the inner folds' thresholds moved by -0.02 .. +0.02, so a
                          candidate whose score collapses when its threshold does not transfer is not preferred.
          --results, --detector
                          cross-validate another detector's published scores (NAB's results layout) instead of running
                          candidates: only its thresholds are selected.
        """;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    /// <summary>Runs the command; returns 0 on success, 1 on bad data, 2 on bad usage.</summary>
    internal static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (!NabCommandLine.TryParse(Options.Parse, args, Usage, error, out var options))
        {
            return 2;
        }

        try
        {
            var watch = Stopwatch.StartNew();
            var corpus = NabCorpus.Load(options.Data, options.Labels);
            var profiles = CostProfile.Load(options.Profiles);
            var folds = NabFolds.Parse(options.Folds, corpus);
            var runner = new CandidateRunner(corpus, options.Data, options.Cache, options.Parallelism);
            IReadOnlyList<DetectorCandidate> candidates;
            List<DetectorResults> results;
            if (options.Detector is not null)
            {
                candidates = [new DetectorCandidate(options.Detector, [])];
                results = [DetectorResults.Load(options.Results!, options.Detector, corpus)];
            }
            else
            {
                candidates = options.Candidates is null ? CandidateSet.Default : CandidateSet.Load(options.Candidates);
                results = [.. candidates.Select(runner.Scores)];
            }

            var detectorSeconds = watch.Elapsed.TotalSeconds;
            var validator = new CrossValidator(folds, profiles, candidates, results, options.SelectionProfile, options.Parallelism, options.Rule, options.OneStandardError, options.Criterion);
            var result = validator.Run() with { Scheme = Describe(options.Folds, folds, options.Rule) };
            var markdown = CrossValidationReport.RenderMarkdown(result);
            output.Write(markdown);
            if (options.Report is not null)
            {
                File.WriteAllText(options.Report, markdown);
            }

            File.WriteAllText(options.Json, JsonSerializer.Serialize(result, JsonOptions));
            if (options.WriteConfig is not null && options.Detector is null)
            {
                var shipped = candidates.First(c => c.Name == result.Shipped);
                File.WriteAllText(options.WriteConfig, ShippedConfiguration(shipped, result.InSample).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
                error.WriteLine($"Shipped configuration written to {Path.GetFullPath(options.WriteConfig)}.");
            }

            error.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{candidates.Count} candidate(s), {folds.Count} folds: {runner.Runs} detector run(s) ({detectorSeconds:F1} s), {watch.Elapsed.TotalSeconds:F1} s in all. Results written to {Path.GetFullPath(options.Json)}."));
            return 0;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or KeyNotFoundException or JsonException or UnauthorizedAccessException or ModelValidationException or ArgumentException)
        {
            error.WriteLine(e.Message);
            return 1;
        }
    }

    /// <summary>
    /// The shipped configuration as the detector's defaults file holds it: the current shipped configuration with the
    /// candidate's settings over it (so every setting stays written out) and, per profile, the threshold fitted on
    /// every file with its raw score there (NAB's thresholds.json entry).
    /// </summary>
    internal static JsonObject ShippedConfiguration(DetectorCandidate candidate, IReadOnlyList<ProfileScore> inSample)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(inSample);
        var json = JsonNode.Parse(AnomalyDetectorKind.ShippedSpec.Json.GetRawText())!.AsObject();
        foreach (var (key, value) in candidate.Settings)
        {
            json[key] = value?.DeepClone();
        }

        var thresholds = new JsonObject();
        foreach (var profile in inSample)
        {
            thresholds[profile.Profile.Name] = new JsonObject
            {
                ["threshold"] = profile.Threshold,
                ["score"] = profile.Score,
            };
        }

        json["thresholds"] = thresholds;
        return json;
    }

    private static string Describe(string scheme, IReadOnlyList<NabFold> folds, ThresholdRule rule) =>
        string.Create(CultureInfo.InvariantCulture, $"{(scheme == "category" ? "leave one category out" : "stratified folds of files")} ({folds.Count} folds, {folds.Sum(f => f.Files.Count)} files, {folds.Sum(f => f.WindowCount)} windows), {rule.ToString().ToLowerInvariant()} thresholds");

    private sealed record Options(
        string Data, string Labels, string Profiles, string? Candidates, string Folds, string SelectionProfile,
        string? Cache, int Parallelism, string Json, string? Report, string? WriteConfig, ThresholdRule Rule,
        string? Results, string? Detector, bool OneStandardError, SelectionCriterion Criterion)
    {
        internal static Options Parse(string[] args)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            string[] known = ["--data", "--labels", "--profiles", "--candidates", "--folds", "--selection-profile", "--cache", "--parallel", "--json", "--report", "--write-config", "--thresholds", "--results", "--detector", "--selection", "--criterion"];
            for (var i = 1; i < args.Length; i++)
            {
                if (!known.Contains(args[i], StringComparer.Ordinal))
                {
                    throw new ArgumentException($"Unknown option '{args[i]}'.");
                }

                if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new ArgumentException($"Option {args[i]} needs a value.");
                }

                values[args[i]] = args[++i];
            }

            var parallel = 1;
            if (values.TryGetValue("--parallel", out var text)
                && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out parallel) || parallel < 1))
            {
                throw new ArgumentException($"--parallel must be a positive integer, got '{text}'.");
            }

            var rule = values.GetValueOrDefault("--thresholds") switch
            {
                null or "smoothed" => ThresholdRule.Smoothed,
                "bagged" => ThresholdRule.Bagged,
                "optimal" => ThresholdRule.Optimal,
                var other => throw new ArgumentException($"--thresholds must be 'optimal', 'bagged' or 'smoothed', got '{other}'."),
            };
            var oneStandardError = values.GetValueOrDefault("--selection") switch
            {
                null or "one-standard-error" => true,
                "best" => false,
                var other => throw new ArgumentException($"--selection must be 'one-standard-error' or 'best', got '{other}'."),
            };
            var criterion = values.GetValueOrDefault("--criterion") switch
            {
                null or "pooled" => SelectionCriterion.Pooled,
                "robust" => SelectionCriterion.Robust,
                var other => throw new ArgumentException($"--criterion must be 'pooled' or 'robust', got '{other}'."),
            };
            if (values.ContainsKey("--results") != values.ContainsKey("--detector"))
            {
                throw new ArgumentException("--results and --detector go together.");
            }

            if (values.ContainsKey("--detector") && (values.ContainsKey("--candidates") || values.ContainsKey("--write-config")))
            {
                throw new ArgumentException("--detector scores published results: --candidates and --write-config do not apply.");
            }

            return new Options(
                Required(values, "--data"), Required(values, "--labels"), Required(values, "--profiles"),
                values.GetValueOrDefault("--candidates"), values.GetValueOrDefault("--folds") ?? "files:5",
                values.GetValueOrDefault("--selection-profile") ?? "standard", values.GetValueOrDefault("--cache"),
                parallel, values.GetValueOrDefault("--json") ?? "nab-cv.json", values.GetValueOrDefault("--report"),
                values.GetValueOrDefault("--write-config"), rule, values.GetValueOrDefault("--results"), values.GetValueOrDefault("--detector"), oneStandardError, criterion);
        }

        private static string Required(Dictionary<string, string> values, string name) =>
            values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"Missing {name}.");
    }
}
