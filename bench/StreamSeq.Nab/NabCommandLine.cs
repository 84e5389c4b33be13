using System.Text.Json;

namespace StreamSeq.Nab;

/// <summary>The <c>score</c> command: scores detectors' results folders and prints a Markdown report.</summary>
internal static class NabCommandLine
{
    internal const string Usage =
        """
        usage: StreamSeq.Nab score --data <nab data dir> --labels <combined_windows.json> --profiles <profiles.json>
                                   --results <results root> --detector <name> [--detector <name> ...]
                                   [--thresholds <thresholds.json>] [--optimize] [--json <output.json>] [--files]

          --thresholds  use NAB's thresholds for each detector; with --optimize as well, each detector is also
                        scored at the thresholds optimised on this corpus. Without --thresholds, thresholds are
                        optimised on this corpus.
          --json        where to write the full results (default: nab-scores.json in the current folder).
          --files       also print the per-file scores of every profile.
        """;

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    /// <summary>Runs the command line; returns 0 on success, 1 on bad data, 2 on bad usage.</summary>
    internal static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length > 0 && args[0] == "cv")
        {
            return CrossValidation.CrossValidationCommand.Run(args, output, error);
        }

        if (!TryParse(Options.Parse, args, Usage + Environment.NewLine + CrossValidation.CrossValidationCommand.Usage, error, out var options))
        {
            return 2;
        }

        try
        {
            var corpus = NabCorpus.Load(options.Data, options.Labels);
            var scorer = new NabScorer(corpus, CostProfile.Load(options.Profiles));
            var thresholds = options.Thresholds is null ? null : NabThresholds.Load(options.Thresholds);
            var scored = new List<DetectorScore>();
            foreach (var detector in options.Detectors)
            {
                var results = DetectorResults.Load(options.Results, detector, corpus);
                if (thresholds is not null)
                {
                    scored.Add(scorer.ScoreDetector(results, thresholds.For(detector)));
                }

                if (thresholds is null || options.Optimize)
                {
                    var optimised = scorer.ScoreDetector(results);
                    scored.Add(thresholds is null ? optimised : optimised with { DetectorName = detector + " (optimised)" });
                }
            }

            output.Write(NabReport.RenderMarkdown(scored));
            if (options.Files)
            {
                foreach (var detector in scored)
                {
                    foreach (var profile in detector.Profiles)
                    {
                        output.WriteLine();
                        output.Write(NabReport.RenderFiles(detector.DetectorName, profile));
                    }
                }
            }

            File.WriteAllText(options.Json, JsonSerializer.Serialize(scored, JsonOptions));
            error.WriteLine($"Results written to {Path.GetFullPath(options.Json)}.");
            return 0;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or KeyNotFoundException or JsonException or UnauthorizedAccessException)
        {
            error.WriteLine(e.Message);
            return 1;
        }
    }

    /// <summary>Parses a command's options; on bad usage, prints the problem and the usage and returns false.</summary>
    internal static bool TryParse<T>(Func<string[], T> parse, string[] args, string usage, TextWriter error, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? options)
        where T : class
    {
        try
        {
            options = parse(args);
            return true;
        }
        catch (ArgumentException e)
        {
            error.WriteLine(e.Message);
            error.WriteLine(usage);
            options = null;
            return false;
        }
    }

    private sealed record Options(
        string Data, string Labels, string Profiles, string Results, IReadOnlyList<string> Detectors,
        string? Thresholds, bool Optimize, string Json, bool Files)
    {
        internal static Options Parse(string[] args)
        {
            if (args.Length == 0 || args[0] != "score")
            {
                throw new ArgumentException(args.Length == 0 ? "No command given." : $"Unknown command '{args[0]}'.");
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            var detectors = new List<string>();
            bool optimize = false, files = false;
            for (var i = 1; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--optimize":
                        optimize = true;
                        break;
                    case "--files":
                        files = true;
                        break;
                    case "--data" or "--labels" or "--profiles" or "--results" or "--thresholds" or "--json" or "--detector":
                        if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                        {
                            throw new ArgumentException($"Option {args[i]} needs a value.");
                        }

                        if (args[i] == "--detector")
                        {
                            detectors.Add(args[++i]);
                        }
                        else
                        {
                            values[args[i]] = args[++i];
                        }

                        break;
                    default:
                        throw new ArgumentException($"Unknown option '{args[i]}'.");
                }
            }

            if (detectors.Count == 0)
            {
                throw new ArgumentException("Missing --detector.");
            }

            return new Options(
                Required(values, "--data"), Required(values, "--labels"), Required(values, "--profiles"),
                Required(values, "--results"), detectors, values.GetValueOrDefault("--thresholds"), optimize,
                values.GetValueOrDefault("--json") ?? "nab-scores.json", files);
        }

        private static string Required(Dictionary<string, string> values, string name) =>
            values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"Missing {name}.");
    }
}
