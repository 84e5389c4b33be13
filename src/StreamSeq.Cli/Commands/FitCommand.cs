using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using StreamSeq.Cli.Io;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Recurrent;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;

namespace StreamSeq.Cli.Commands;

/// <summary><c>streamseq fit</c>: estimates model parameters from a file and writes the fitted spec.</summary>
internal static class FitCommand
{
    /// <summary>
    /// The fitted spec is a file people read and edit, so text is written as it was read: apostrophes, ampersands and
    /// non-ASCII letters of a description stay themselves instead of becoming \u0027-style escapes
    /// (quotes, backslashes and control characters are still escaped, as JSON requires).
    /// </summary>
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>EM's convergence test when <c>--tolerance</c> is not given: the library's.</summary>
    private static readonly double DefaultEmTolerance = new FitOptions().Tolerance;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = CommonOptions.Model();
        var input = CommonOptions.Input("Training observations: CSV or JSON Lines, as for 'run'; each stream is one sequence.");
        var output = OptionParsers.FileNotStandardOutput(CommonOptions.Output("Where to write the fitted model spec (JSON). With --method bptt the trained weights go next to it (same name, .safetensors) and the spec points at them."));
        var fit = new Option<string?>("--fit")
        {
            Description = "Comma-separated spec fields to estimate (mle, em), e.g. 'observationNoise,transitionNoise' or 'components[0].levelNoise'. Variances are fitted on a log scale. An error with bptt, which trains every weight; so are --max-iterations with bptt and bptt's settings (--epochs, ...) with mle or em.",
        };
        var control = new Option<string?>("--control") { Description = "Comma-separated CSV columns that are control inputs, not readings (columns named control_* always are); u_t takes them in the header's order, as for 'run'." };
        var method = new Option<string?>("--method") { Description = "'mle' (maximise the log-likelihood with Nelder-Mead then BFGS), 'em' (expectation-maximisation, for kinds that support it) or 'bptt' (truncated back-propagation through time with Adam, for recurrent kinds). Default: bptt for recurrent kinds, else mle." };
        method.AcceptOnlyFromAmong("mle", "em", "bptt");
        var maxIterations = OptionParsers.WholeNumber("--max-iterations", "Iteration limit (mle, em).", 500, 1);
        var tolerance = OptionParsers.OptionalFiniteNumber("--tolerance", $"em: stop when an iteration improves the log-likelihood by less than this (absolute; default {DefaultEmTolerance.ToString("R", CultureInfo.InvariantCulture)}). mle and bptt stop by their own tests, so with them it is an error.", 0);
        var seed = OptionParsers.Seed("Seed for methods that draw random numbers (bptt: initial weights and chunk order; same seed, same weights).", 0UL);
        var defaults = new BpttOptions();
        var epochs = OptionParsers.WholeNumber("--epochs", "bptt: maximum passes over the training data.", defaults.Epochs, 1);
        var learningRate = OptionParsers.FiniteNumber("--learning-rate", "bptt: Adam step size.", defaults.LearningRate, 0, exclusive: true);
        var chunkLength = OptionParsers.WholeNumber("--chunk-length", "bptt: truncation length (steps per chunk).", defaults.ChunkLength, 1);
        var batchSize = OptionParsers.WholeNumber("--batch-size", "bptt: chunks per mini-batch.", defaults.BatchSize, 1);
        var clipNorm = OptionParsers.FiniteNumber("--clip-norm", "bptt: clip the gradient to this global L2 norm (0: no clipping).", defaults.ClipNorm, 0);
        var validation = OptionParsers.FiniteNumber("--validation-fraction", "bptt: fraction of each sequence's tail held out for early stopping, at least 0 and below 1.", defaults.ValidationFraction, 0);
        var patience = OptionParsers.WholeNumber("--patience", "bptt: epochs without validation improvement before stopping (the best epoch's weights are kept).", defaults.Patience, 1);
        var command = new Command("fit", "Fit model parameters to observations and write the model spec with the fitted values and the maximised log-likelihood.")
        {
            model, input, output, fit, control, method, maxIterations, tolerance, seed, epochs, learningRate, chunkLength, batchSize, clipNorm, validation, patience,
        };
        command.SetAction(parse =>
        {
            var modelFile = parse.GetValue(model)!;
            var bptt = new BpttOptions
            {
                Epochs = parse.GetValue(epochs),
                LearningRate = parse.GetValue(learningRate),
                ChunkLength = parse.GetValue(chunkLength),
                BatchSize = parse.GetValue(batchSize),
                ClipNorm = parse.GetValue(clipNorm),
                ValidationFraction = parse.GetValue(validation),
                Patience = parse.GetValue(patience),
                Seed = parse.GetValue(seed),
            };
            Option[] methodSpecific = [maxIterations, epochs, learningRate, chunkLength, batchSize, clipNorm, validation, patience];
            return CliErrors.Run(stderr, modelFile.Name, () => Execute(
                modelFile.FullName,
                parse.GetValue(input)!.FullName,
                parse.GetValue(output)!.FullName,
                parse.GetValue(fit)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [],
                parse.GetValue(method),
                parse.GetValue(maxIterations),
                parse.GetValue(seed),
                stderr,
                bptt,
                parse.GetValue(tolerance),
                [.. methodSpecific.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name)],
                parse.GetValue(control)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
        });
        return command;
    }

    // givenOptions: the method-specific options given on the command line (--max-iterations, and bptt's --epochs,
    // --learning-rate, ...); one that the chosen method does not use is an error, as --tolerance is, rather than ignored.
    public static int Execute(string modelPath, string inputPath, string outputPath, IReadOnlyList<string> parameters, string? method, int maxIterations, ulong seed, TextWriter stderr, BpttOptions? bptt = null, double? tolerance = null, IReadOnlyList<string>? givenOptions = null, IReadOnlyCollection<string>? controlColumns = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.GroupBy(p => p, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } repeated)
        {
            // Two copies of one parameter make a flat direction the optimiser reports as "cannot identify".
            throw new UsageException($"--fit: '{repeated.Key}' is named twice.");
        }

        var spec = ModelSpec.Load(modelPath);
        var kind = ModelCatalog.Find(spec.Kind);
        method ??= kind is IGradientTraining ? "bptt" : "mle";
        if (tolerance is not null && method != "em")
        {
            // Ignored before it existed for em; mle's tests (simplex spread, BFGS gradient) and bptt's early stopping are not a gain in log-likelihood.
            throw new UsageException($"--tolerance: sets when --method em stops, and this fit is --method {method} (which stops by its own tests, named in the fitted spec's fit.stopReason).");
        }

        // '--fit observationNoise' on a recurrent spec trained every weight by bptt and said nothing of the field, and
        // '--epochs 5' with mle was dropped as silently: an option the method does not use is a mistake worth naming.
        if (method == "bptt" && parameters.Count > 0)
        {
            throw new UsageException($"--fit: names the spec fields that --method mle or em estimate, and this fit is --method bptt, which trains every weight of the net; leave --fit out, or give --method mle to estimate '{string.Join(",", parameters)}'.");
        }

        if (givenOptions?.FirstOrDefault(o => method == "bptt" ? o == "--max-iterations" : o != "--max-iterations") is { } unused)
        {
            throw new UsageException(method == "bptt"
                ? $"{unused}: limits --method mle and em, and this fit is --method bptt (its limit is --epochs)."
                : $"{unused}: is a setting of --method bptt training, and this fit is --method {method}.");
        }

        if (!File.Exists(inputPath))
        {
            throw new FileNotFoundException(null, inputPath);
        }

        ObservationFiles.CheckControlColumnsApply(inputPath, controlColumns);

        // The spec's own weights are an input too: '-o dir/nar' put the trained weights in dir/nar.safetensors, over the
        // weights of a -m dir/nar.json that names them, which then pointed at weights it never had.
        var modelWeights = spec.Json.TryGetProperty("weights", out var weights) && weights.ValueKind == System.Text.Json.JsonValueKind.String && !string.IsNullOrWhiteSpace(weights.GetString()) && !weights.GetString()!.Contains('\0', StringComparison.Ordinal)
            ? Path.GetFullPath(weights.GetString()!, spec.BaseDirectory ?? Directory.GetCurrentDirectory())
            : null;
        OutputFiles.CheckDistinct(
            [("--output", outputPath), ("the weights file", method == "bptt" ? Path.ChangeExtension(outputPath, ".safetensors") : null)],
            [("--input", inputPath), ("--model", modelPath), ("--model weights", modelWeights)]);
        if (method == "bptt")
        {
            if (kind is not IGradientTraining trainable)
            {
                throw new ModelValidationException("method", $"kind '{spec.Kind}' is not trained by gradient descent; use --method mle{(kind is IExpectationMaximization ? " or em" : string.Empty)}.");
            }

            bptt ??= new BpttOptions { Seed = seed };
            try
            {
                bptt.Validate();
            }
            catch (ModelValidationException e)
            {
                // The training settings are command-line options: a bad one is a usage error, not the model file's.
                throw new UsageException($"{e.Field}: {e.Problem}", e);
            }

            return Train(spec, trainable, inputPath, outputPath, bptt, stderr, controlColumns);
        }

        if (parameters.Count == 0)
        {
            // The command line's mistake (exit code 2), not the spec's: said as "model.json: fit: ..." it read as a bad
            // field 'fit' in the spec, and it did not say what to name.
            var example = spec.Kind switch
            {
                "hmm" => $" (for this {spec.Kind} model, e.g. --fit 'transition,emission')",
                "linear-gaussian" => $" (for this {spec.Kind} model, e.g. --fit 'observationNoise,transitionNoise')",
                _ => string.Empty,
            };
            throw new UsageException($"--fit: is required with --method {method}: name the spec fields to estimate, as the spec names them{example}.");
        }

        var binding = ModelBindingFactory.FromSpec(spec);
        var sequences = ObservationFiles.LoadSeries(inputPath, binding, stderr, controlColumns).Select(s => s.Series).ToList();
        if (sequences.Count == 0)
        {
            throw new ModelValidationException("input", $"{Path.GetFileName(inputPath)} has no usable observations.");
        }

        var options = new FitOptions { MaxIterations = maxIterations, Seed = seed, Tolerance = tolerance ?? DefaultEmTolerance };
        var result = Io.Progress.Run(stderr, $"fit {spec.Name} ({method})", maxIterations, report =>
        {
            var progress = new Progress<FitProgress>(p => report(p.Iteration));
            var withProgress = new FitOptions { MaxIterations = options.MaxIterations, Seed = options.Seed, Tolerance = options.Tolerance, Progress = progress };
            if (method == "em")
            {
                if (kind is not IExpectationMaximization em)
                {
                    throw new ModelValidationException("method", $"kind '{spec.Kind}' has no EM fitting; use --method mle.");
                }

                return em.FitEm(spec, sequences, parameters.ToArray(), withProgress);
            }

            return MaximumLikelihood.Fit(spec, sequences, parameters.ToArray(), withProgress);
        });

        var belowTolerance = string.Create(CultureInfo.InvariantCulture, $"log-likelihood improvement below the tolerance {options.Tolerance:R}");
        var emStop = EmStopReason(result.Converged, result.Iterations, options.MaxIterations, belowTolerance);
        var diagnostics = result.Diagnostics ?? DiagnoseEm(spec, result, sequences, parameters, seed, $"EM: {emStop}");
        var converged = diagnostics?.IdentifiedMaximum ?? result.Converged;
        var fitted = result.Spec;
        KeepFileReferences(fitted, spec, outputPath);
        var outside = OutsideSupport(binding.Estimator, sequences);
        var warnings = (diagnostics?.Warnings ?? []).ToList();
        if (outside is { Readings: > 0 } o)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"{Counted.Of(o.Readings, "reading")} outside the emission's support (a count that is negative or not a whole number, a category out of range) left out of the fit as gaps."));
        }

        fitted["fit"] = new JsonObject
        {
            ["method"] = result.Method,
            ["parameters"] = new JsonArray([.. parameters.Select(p => (JsonNode)p)]),
            ["logLikelihood"] = result.LogLikelihood,
            ["iterations"] = result.Iterations,
            ["converged"] = converged,
            ["stopReason"] = diagnostics?.StopReason ?? $"EM: {emStop}",
            ["observations"] = sequences.Sum(s => s.Length),
            ["observedValues"] = outside is { } used ? used.Used : diagnostics?.Observations ?? sequences.Sum(s => s.Values.Count(double.IsFinite)),
            ["sequences"] = sequences.Count,
            ["standardErrors"] = diagnostics is null ? null : StandardErrors(diagnostics),
            ["warnings"] = new JsonArray([.. warnings.Select(w => (JsonNode)w)]),
        };
        if (outside is { } counts)
        {
            fitted["fit"]!["valuesOutsideSupport"] = counts.Values;
        }

        OutputFiles.WriteAllText("--output", outputPath, fitted.ToJsonString(Indented) + "\n");
        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fitted {string.Join(", ", parameters)} of '{spec.Name}' by {result.Method}: log-likelihood {result.LogLikelihood:R} after {Counted.Of(result.Iterations, "iteration")}{(converged ? string.Empty : " (not converged to an identified maximum)")}; wrote {outputPath}"));
        foreach (var warning in warnings)
        {
            stderr.WriteLine($"warning: {warning}");
        }

        return 0;
    }

    /// <summary>
    /// For a hidden Markov model, the observed values the fit used and the readings (and their values) outside the
    /// emission's support, which the filter, Baum–Welch and the mle fit all leave out as gaps; null for other kinds.
    /// </summary>
    private static (int Used, int Readings, int Values)? OutsideSupport(IEstimator estimator, IReadOnlyList<ObservationSeries> sequences)
    {
        if (estimator is not HiddenMarkovFilter hmm)
        {
            return null;
        }

        var emission = hmm.Model.Emission;
        int used = 0, readings = 0, values = 0;
        foreach (var series in sequences)
        {
            var d = series.Dimension;
            for (var t = 0; t < series.Length; t++)
            {
                var y = series.Values.AsSpan(t * d, d);
                var observed = 0;
                foreach (var v in y)
                {
                    observed += double.IsFinite(v) ? 1 : 0;
                }

                if (observed > 0 && !emission.Accepts(y))
                {
                    readings++;
                    values += observed;
                }
                else
                {
                    used += observed;
                }
            }
        }

        return (used, readings, values);
    }

    /// <summary>
    /// Why EM stopped: at the tolerance, at the iteration limit, or at a step that lowered the likelihood, which EM never
    /// does in exact arithmetic (that last one was reported as the iteration limit, after 2 of 500 iterations).
    /// </summary>
    internal static string EmStopReason(bool converged, int iterations, int maxIterations, string belowTolerance) =>
        converged ? belowTolerance
        : iterations >= maxIterations ? "iteration limit reached"
        : "a step lowered the log-likelihood, which EM never does in exact arithmetic (numerical trouble); kept the last point that raised it";

    /// <summary>Standard errors for an EM fit of a linear Gaussian model from the same observed information as for
    /// mle; other kinds' EM parameters are constrained (probabilities), so none are computed for them.</summary>
    private static FitDiagnostics? DiagnoseEm(ModelSpec spec, FitResult result, IReadOnlyList<ObservationSeries> sequences, IReadOnlyList<string> parameters, ulong seed, string reason)
    {
        if (spec.Kind != "linear-gaussian")
        {
            return null;
        }

        var fitted = ModelSpec.Parse(result.Spec.ToJsonString(), spec.Name, spec.BaseDirectory);
        return MaximumLikelihood.Diagnose(fitted, sequences, parameters, reason, result.Converged, new FitOptions { Seed = seed });
    }

    private static JsonObject StandardErrors(FitDiagnostics d) => new()
    {
        ["available"] = d.StandardErrorsAvailable,
        ["note"] = d.StandardErrorNote,
        ["estimates"] = new JsonArray([.. d.Parameters.Select(p => (JsonNode)new JsonObject
        {
            ["name"] = p.Name,
            ["estimate"] = p.Estimate,
            ["standardError"] = Number(p.StandardError),
        })]),
        ["optimizerScale"] = new JsonArray([.. d.Coordinates.Select(c => (JsonNode)new JsonObject
        {
            ["name"] = c.Name,
            ["scale"] = c.Scale,
            ["estimate"] = c.Estimate,
            ["standardError"] = Number(c.StandardError),
        })]),
    };

    private static int Train(ModelSpec spec, IGradientTraining trainable, string inputPath, string outputPath, BpttOptions options, TextWriter stderr, IReadOnlyCollection<string>? controlColumns)
    {
        options.Validate();
        var m = trainable.ObservationDimension(spec);
        // The net reads each reading's control inputs beside the previous observation, as 'run' feeds them.
        var sequences = ObservationFiles.LoadSeries(inputPath, spec.Name, m, spec.TimeUnit.TotalMilliseconds, stderr, trainable.ControlDimension(spec), controlColumns).Select(s => s.Series).ToList();
        if (sequences.Count == 0)
        {
            throw new ModelValidationException("input", $"{Path.GetFileName(inputPath)} has no usable observations.");
        }

        var result = Io.Progress.Run(stderr, $"fit {spec.Name} (bptt)", options.Epochs, (report, status) =>
        {
            var progress = new SynchronousProgress<FitProgress>(p =>
            {
                report(p.Iteration);
                status(p.Message);
            });
            return trainable.FitGradient(spec, sequences, WithProgress(options, progress));
        });

        var weightsPath = Path.ChangeExtension(outputPath, ".safetensors");
        using (var weights = OutputFiles.Open("--output", weightsPath))
        {
            SafeTensorsFormat.Write(weights.Stream, result.Weights);
            weights.Commit();
        }

        var fitted = result.Fit.Spec;
        fitted["weights"] = Path.GetFileName(weightsPath);
        fitted["fit"] = new JsonObject
        {
            ["method"] = "bptt",
            ["logLikelihood"] = result.Fit.LogLikelihood,
            ["trainingNll"] = Number(result.TrainingNll),
            ["validationNll"] = Number(result.ValidationNll),
            ["epochs"] = result.Epochs,
            ["bestEpoch"] = result.BestEpoch,
            ["stoppedEarly"] = result.Fit.Converged,
            ["observations"] = result.TrainingSteps + result.ValidationSteps,
            ["validationObservations"] = result.ValidationSteps,
            ["sequences"] = sequences.Count,
            ["seed"] = options.Seed,
            ["learningRate"] = options.LearningRate,
            ["chunkLength"] = options.ChunkLength,
            ["batchSize"] = options.BatchSize,
            ["clipNorm"] = options.ClipNorm,
            ["validationFraction"] = options.ValidationFraction,
            ["warnings"] = new JsonArray([.. result.Warnings.Select(w => (JsonNode)w)]),
        };
        OutputFiles.WriteAllText("--output", outputPath, fitted.ToJsonString(Indented) + "\n");
        stderr.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"trained '{spec.Name}' by bptt: {Counted.Of(result.Epochs, "epoch")} (kept epoch {result.BestEpoch}), NLL per observation {result.TrainingNll:F4} (training), {result.ValidationNll:F4} (validation); wrote {outputPath} and {weightsPath}"));
        foreach (var warning in result.Warnings)
        {
            stderr.WriteLine($"warning: {warning}");
        }

        return 0;
    }

    /// <summary>
    /// The files a spec names (a recurrent net's <c>weights</c>, an ONNX graph's <c>model</c>) are relative to the spec's
    /// folder. A fitted spec written to another folder kept them as written, so it named files that are not there
    /// (<c>fit -m examples/sensor-ukf.json -o out/fitted.json</c> gave a spec whose weights were out/recurrent-nar.safetensors):
    /// they are rewritten relative to the output's folder. Absolute paths stay as they are.
    /// </summary>
    internal static void KeepFileReferences(JsonObject fitted, ModelSpec spec, string outputPath)
    {
        var from = Path.GetFullPath(spec.BaseDirectory ?? Directory.GetCurrentDirectory());
        var to = Path.GetDirectoryName(Path.GetFullPath(outputPath)) ?? from;
        if (string.Equals(Path.TrimEndingDirectorySeparator(from), Path.TrimEndingDirectorySeparator(to), StringComparison.Ordinal))
        {
            return;
        }

        foreach (var field in (string[])["weights", "model"])
        {
            if (fitted[field] is JsonValue value && value.TryGetValue<string>(out var written) && !string.IsNullOrWhiteSpace(written)
                && !written.Contains('\0', StringComparison.Ordinal) && !Path.IsPathRooted(written))
            {
                fitted[field] = Path.GetRelativePath(to, Path.GetFullPath(written, from)).Replace(Path.DirectorySeparatorChar, '/');
            }
        }
    }

    private static BpttOptions WithProgress(BpttOptions o, IProgress<FitProgress> progress) => new()
    {
        Epochs = o.Epochs,
        LearningRate = o.LearningRate,
        ChunkLength = o.ChunkLength,
        BatchSize = o.BatchSize,
        ClipNorm = o.ClipNorm,
        ValidationFraction = o.ValidationFraction,
        Patience = o.Patience,
        Seed = o.Seed,
        Progress = progress,
    };

    private static JsonValue? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;
}
