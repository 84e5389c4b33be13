using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using StreamSeq.Cli.Io;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;

namespace StreamSeq.Cli.Commands;

/// <summary><c>streamseq fit</c>: estimates model parameters from a file and writes the fitted spec.</summary>
internal static class FitCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = CommonOptions.Model();
        var input = CommonOptions.Input("Training observations: CSV or JSON Lines, as for 'run'; each stream is one sequence.");
        var output = CommonOptions.Output("Where to write the fitted model spec (JSON).");
        var fit = new Option<string>("--fit")
        {
            Description = "Comma-separated spec fields to estimate, e.g. 'observationNoise,transitionNoise' or 'components[0].levelNoise'. Variances are fitted on a log scale.",
            Required = true,
        };
        var method = new Option<string>("--method") { Description = "'mle' (maximise the log-likelihood with Nelder-Mead then BFGS) or 'em' (expectation-maximisation, for kinds that support it).", DefaultValueFactory = _ => "mle" };
        method.AcceptOnlyFromAmong("mle", "em");
        var maxIterations = new Option<int>("--max-iterations") { Description = "Iteration limit.", DefaultValueFactory = _ => 500 };
        var seed = new Option<ulong>("--seed") { Description = "Seed for methods that draw random numbers.", DefaultValueFactory = _ => 0UL };
        var command = new Command("fit", "Fit model parameters to observations and write the model spec with the fitted values and the maximised log-likelihood.")
        {
            model, input, output, fit, method, maxIterations, seed,
        };
        command.SetAction(parse =>
        {
            var modelFile = parse.GetValue(model)!;
            return CliErrors.Run(stderr, modelFile.Name, () => Execute(
                modelFile.FullName,
                parse.GetValue(input)!.FullName,
                parse.GetValue(output)!.FullName,
                parse.GetValue(fit)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                parse.GetValue(method)!,
                parse.GetValue(maxIterations),
                parse.GetValue(seed),
                stderr));
        });
        return command;
    }

    public static int Execute(string modelPath, string inputPath, string outputPath, IReadOnlyList<string> parameters, string method, int maxIterations, ulong seed, TextWriter stderr)
    {
        var spec = ModelSpec.Load(modelPath);
        var binding = ModelBindingFactory.FromSpec(spec);
        if (!File.Exists(inputPath))
        {
            throw new FileNotFoundException(null, inputPath);
        }

        var sequences = ObservationFiles.LoadSeries(inputPath, binding, stderr).Select(s => s.Series).ToList();
        if (sequences.Count == 0)
        {
            throw new ModelValidationException("input", $"{Path.GetFileName(inputPath)} has no usable observations.");
        }

        var options = new FitOptions { MaxIterations = maxIterations, Seed = seed };
        var result = Io.Progress.Run(stderr, $"fit {spec.Name} ({method})", maxIterations, report =>
        {
            var progress = new Progress<FitProgress>(p => report(p.Iteration));
            var withProgress = new FitOptions { MaxIterations = options.MaxIterations, Seed = options.Seed, Tolerance = options.Tolerance, Progress = progress };
            if (method == "em")
            {
                var kind = ModelCatalog.Find(spec.Kind);
                if (kind is not IExpectationMaximization em)
                {
                    throw new ModelValidationException("method", $"kind '{spec.Kind}' has no EM fitting; use --method mle.");
                }

                return em.FitEm(spec, sequences, parameters.ToArray(), withProgress);
            }

            return MaximumLikelihood.Fit(spec, sequences, parameters.ToArray(), withProgress);
        });

        var fitted = result.Spec;
        fitted["fit"] = new JsonObject
        {
            ["method"] = result.Method,
            ["parameters"] = new JsonArray([.. parameters.Select(p => (JsonNode)p)]),
            ["logLikelihood"] = result.LogLikelihood,
            ["iterations"] = result.Iterations,
            ["converged"] = result.Converged,
            ["observations"] = sequences.Sum(s => s.Length),
            ["sequences"] = sequences.Count,
        };
        File.WriteAllText(outputPath, fitted.ToJsonString(Indented) + "\n");
        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fitted {string.Join(", ", parameters)} of '{spec.Name}' by {result.Method}: log-likelihood {result.LogLikelihood:R} after {result.Iterations} iterations{(result.Converged ? string.Empty : " (did not converge)")}; wrote {outputPath}"));
        return 0;
    }
}
