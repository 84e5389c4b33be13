using System.CommandLine;
using StreamSeq.Cli.Io;
using StreamSeq.Cli.Plotting;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Views;

namespace StreamSeq.Cli.Commands;

/// <summary><c>streamseq plot</c>: PNG or SVG charts of a run's output, the same views as the dashboard's stream page.</summary>
internal static class PlotCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var input = CommonOptions.Input("Output records of 'streamseq run' (JSON Lines).");
        var observations = new Option<FileInfo?>("--observations")
        {
            Description = "The run's input (CSV or JSON Lines), to draw the readings themselves.",
        };
        var model = new Option<FileInfo?>("--model", "-m")
        {
            Description = "The run's model spec: maps filtered and smoothed states into observation space (Kalman, EKF and UKF kinds). Without it the chart shows the one-step predictive distribution and no smoothed line.",
        };
        var output = OptionParsers.NotBlank(OptionParsers.FileNotStandardOutput(new Option<string>("--output", "-o")
        {
            Description = "A .png or .svg file (one stream, or several in a grid), or a folder (one file per stream, named after it).",
            Required = true,
        }));
        var stream = new Option<string[]>("--stream")
        {
            Description = "Plot only this stream (repeat for several). Default: every stream in the output.",
            AllowMultipleArgumentsPerToken = false,
        };
        var grid = new Option<bool>("--grid") { Description = "Put all selected streams in one image (a grid two charts wide); with a folder output, writes grid.<format> there." };
        var format = new Option<string>("--format") { Description = "Image format for folder output: png or svg.", DefaultValueFactory = _ => "png" };
        format.AcceptOnlyFromAmong("png", "svg");
        var component = OptionParsers.WholeNumber("--component", "Which observed component to draw for multivariate streams (0-based).", 0, 0);
        var width = OptionParsers.WholeNumber("--width", "Width of one chart in pixels.", 1000, 100, 20000);
        var height = OptionParsers.WholeNumber("--height", "Height of one chart in pixels.", 420, 100, 20000);
        var command = new Command("plot", "Draw a run's output: readings, filtered mean with a 95% band, smoothed line, forecasts and anomaly markers, as PNG or SVG.")
        {
            input, observations, model, output, stream, grid, format, component, width, height,
        };
        command.SetAction(parse =>
        {
            var modelFile = parse.GetValue(model);
            return CliErrors.Run(stderr, modelFile?.Name, () => Execute(
                new PlotRequest
                {
                    InputPath = parse.GetValue(input)!.FullName,
                    ObservationsPath = parse.GetValue(observations)?.FullName,
                    ModelPath = modelFile?.FullName,
                    OutputPath = parse.GetValue(output)!,
                    Streams = parse.GetValue(stream) ?? [],
                    Grid = parse.GetValue(grid),
                    Format = parse.GetValue(format)!,
                    Component = parse.GetValue(component),
                    Width = parse.GetValue(width),
                    Height = parse.GetValue(height),
                },
                stdout,
                stderr));
        });
        return command;
    }

    public static int Execute(PlotRequest request, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObservationProjection? projection = null;
        string? modelName = null;
        IReadOnlyList<string> modelFiles = [];

        // How the charts are drawn without a state map: said once they are about to be drawn, not before an error
        // (a mistyped --input, an --output that is no image) that draws none.
        string? drawing = null;
        if (request.ModelPath is not null)
        {
            var binding = ModelBindingFactory.Load(request.ModelPath, 0, 0);
            projection = ObservationProjection.For(binding.Estimator);
            modelName = binding.Name;
            modelFiles = binding.Files;
            if (projection is null)
            {
                drawing = $"note: model '{binding.Name}' ({binding.Estimator.Info.Family}) has no map from states to readings: drawing the one-step predictive distribution, and no smoothed line.";
            }
        }
        else
        {
            drawing = "note: no --model: drawing the one-step predictive distribution instead of the filtered state, and no smoothed line.";
        }

        var series = PlotDataReader.ReadOutputs(request.InputPath, name => name == modelName ? projection : null, request.Streams);
        var missing = request.Streams.Where(s => series.All(x => x.Stream != s)).ToList();
        if (missing.Count > 0)
        {
            throw new FormatException($"{Path.GetFileName(request.InputPath)}: no records of stream{(missing.Count > 1 ? "s" : string.Empty)} {string.Join(", ", missing.Select(m => $"'{m}'"))}.");
        }

        if (series.Count == 0)
        {
            throw new FormatException($"{Path.GetFileName(request.InputPath)}: no output records to plot.");
        }

        // Said with the other note on how the charts are drawn, once they are about to be: not before an error
        // (an --observations file that cannot be read, an --output that is no image) that draws none.
        string? otherModels = null;
        if (modelName is not null && series.Any(s => s.Model != modelName))
        {
            otherModels = $"note: streams of models other than '{modelName}' are drawn with their one-step predictive distribution.";
        }

        if (request.ObservationsPath is not null)
        {
            var (skipped, first) = PlotDataReader.ReadObservations(request.ObservationsPath, series);
            if (skipped > 0)
            {
                stderr.WriteLine($"note: {Counted.Of(skipped, "malformed observation row")} skipped (first: {first}).");
            }

            // Every plotted stream took readings in; one with none here means the file is not its input (another file,
            // or a file without a 'stream' column, read as one stream named after the file). It was drawn without
            // readings and nothing said why.
            if (series.Where(s => s.Observations.Count == 0).ToList() is { Count: > 0 } unread)
            {
                var which = unread.Count == 1
                    ? $"the plotted stream '{TerminalText.Escape(unread[0].Stream)}'"
                    : $"{(unread.Count == series.Count ? $"any of the {series.Count} plotted streams" : $"{unread.Count} of the plotted streams")} (first: '{TerminalText.Escape(unread[0].Stream)}')";
                stderr.WriteLine($"note: --observations {TerminalText.Escape(Path.GetFileName(request.ObservationsPath))} has no readings of {which}, so {(unread.Count == 1 ? "its chart shows" : "their charts show")} none; a file without a 'stream' column is one stream named after the file.");
            }
        }

        var written = new List<string>();
        var isFile = request.OutputPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || PlotRenderer.IsSvg(request.OutputPath);
        if (!isFile && !Directory.Exists(request.OutputPath) && (File.Exists(request.OutputPath) || Path.HasExtension(request.OutputPath)))
        {
            // An existing file, or a new name with another extension (p.gif, out.csv), is not a folder the user meant
            // to create: say so instead of making a folder of that name (or failing on the file as "already exists").
            throw new UsageException($"--output '{request.OutputPath}': {(File.Exists(request.OutputPath) ? "is an existing file that" : "names a file that")} is neither .png nor .svg; give a .png or .svg file, or a folder (an existing one, or a new name without an extension) for one image per stream.");
        }

        // Each stream drawn alone must have the component, checked before any image is written. A grid draws each
        // stream's last component when it has fewer, and says so; a grid where no stream has it is a bad option value.
        if (!request.Grid && (!isFile || series.Count == 1))
        {
            foreach (var one in series)
            {
                Component(one, request.Component);
            }
        }
        else if (series.Where(s => s.Components <= request.Component).ToList() is { Count: > 0 } narrower)
        {
            if (narrower.Count == series.Count)
            {
                Component(narrower.MaxBy(s => s.Components)!, request.Component);
            }

            stderr.WriteLine($"note: --component {request.Component}: {Counted.Of(narrower.Count, "stream")} of the grid {(narrower.Count == 1 ? "has" : "have")} fewer components and {(narrower.Count == 1 ? "shows its" : "show their")} last one (first: '{TerminalText.Escape(narrower[0].Stream)}', {Counted.Of(narrower[0].Components, "component")}).");
        }

        void NoteDrawing()
        {
            if (drawing is not null)
            {
                stderr.WriteLine(drawing);
            }

            if (otherModels is not null)
            {
                stderr.WriteLine(otherModels);
            }
        }

        (string Option, string? Path)[] inputs = [("--input", request.InputPath), ("--observations", request.ObservationsPath), ("--model", request.ModelPath), .. modelFiles.Select(f => ("--model weights", (string?)f))];
        if (isFile)
        {
            OutputFiles.CheckDistinct([("--output", request.OutputPath)], inputs);
            NoteDrawing();
            if (series.Count == 1 && !request.Grid)
            {
                PlotRenderer.WriteSingle(request.OutputPath, series[0], Component(series[0], request.Component), request.Width, request.Height);
            }
            else
            {
                PlotRenderer.WriteGrid(request.OutputPath, series, request.Component, request.Width, request.Height);
            }

            written.Add(request.OutputPath);
        }
        else
        {
            // Every image's path is known before any is written, so none of them replaces an input that happens to
            // lie in the folder under a stream's name (--observations out/pump-7.png, -i out/pump-7.svg).
            var images = new List<(string Path, int Series)>();
            if (request.Grid)
            {
                images.Add((Path.Combine(request.OutputPath, $"grid.{request.Format}"), -1));
            }
            else
            {
                var names = StreamFileNames.ForAll([.. series.Select(s => s.Stream)]);
                for (var i = 0; i < series.Count; i++)
                {
                    var (name, why) = names[i];
                    if (why is not null)
                    {
                        stderr.WriteLine($"note: stream '{series[i].Stream}' written as {name}.{request.Format}: its id {why}.");
                    }

                    images.Add((Path.Combine(request.OutputPath, $"{name}.{request.Format}"), i));
                }
            }

            foreach (var (path, _) in images)
            {
                OutputFiles.CheckDistinct([("--output", path)], inputs);
            }

            NoteDrawing();
            OutputFiles.CreateFolder("--output", request.OutputPath);
            foreach (var (path, i) in images)
            {
                if (i < 0)
                {
                    PlotRenderer.WriteGrid(path, series, request.Component, request.Width, request.Height);
                }
                else
                {
                    PlotRenderer.WriteSingle(path, series[i], Component(series[i], request.Component), request.Width, request.Height);
                }

                written.Add(path);
            }
        }

        stderr.WriteLine($"{Counted.Of(series.Count, "stream")} plotted: {Listed(written)}");
        return 0;
    }

    /// <summary>
    /// The files written, for the summary line: all of them up to four, else the first three and how many more in their
    /// folder. A folder of charts for 200 streams listed all 200 paths on one line.
    /// </summary>
    internal static string Listed(IReadOnlyList<string> written)
    {
        ArgumentNullException.ThrowIfNull(written);
        return written.Count <= 4
            ? string.Join(", ", written)
            : $"{string.Join(", ", written.Take(3))} and {written.Count - 3} more in {Path.GetDirectoryName(written[0])}";
    }

    /// <summary>The file name (without extension) for a stream's image in a folder: <see cref="StreamFileNames.For"/>.</summary>
    public static string FileName(string stream) => StreamFileNames.For(stream, out _);

    /// <summary>The component to draw of a stream in an image of its own: one it does not have is a bad option value.</summary>
    /// <exception cref="UsageException">The stream has no such component.</exception>
    private static int Component(StreamSeries series, int requested)
    {
        if (requested >= series.Components)
        {
            var range = series.Components == 1 ? "must be 0" : $"must be between 0 and {series.Components - 1}";
            throw new UsageException($"--component: {range}, got {requested}: stream '{series.Stream}' has {Counted.Of(series.Components, "component")}.");
        }

        return requested;
    }
}
