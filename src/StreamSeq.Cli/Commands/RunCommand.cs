using System.CommandLine;
using System.Globalization;
using StreamSeq.Cli.Io;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;

namespace StreamSeq.Cli.Commands;

/// <summary><c>streamseq run</c>: replays a file through exactly the worker's processor.</summary>
internal static class RunCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = CommonOptions.Model();
        var input = CommonOptions.Input("Observations: CSV (header stream,time,<values...>) or JSON Lines (input records with a 'stream' field).");
        var output = CommonOptions.Output("Where to write the output records (JSON Lines); '-' for standard output. Written only if the run succeeds.");
        var lag = OptionParsers.WholeNumber("--lag", $"Also emit a 'smoothed' record for step t-L after each observation (fixed-lag smoothing; at most {ProcessorOptions.MaxLag}, as in the worker).", 0, 0, workerLimit: ProcessorOptions.MaxLag);
        var horizon = OptionParsers.WholeNumber("--horizon", $"Also emit 'forecast' records for horizons 1..K after each observation (at most {ProcessorOptions.MaxHorizon}, as in the worker).", 0, 0, workerLimit: ProcessorOptions.MaxHorizon);
        var smooth = new Option<bool>("--smooth") { Description = "At the end, emit fixed-interval (RTS) smoothed records for every step of every stream." };
        var lateness = OptionParsers.FiniteNumber("--allowed-lateness", "Re-order records arriving up to this many model time units late (default 0: out-of-order rows are rejected).", 0, 0);
        var skew = OptionParsers.OptionalFiniteNumber("--max-time-skew", "Reject a row whose time is more than this many model time units ahead of its stream's newest time (too-far-ahead), so one far-future row cannot make every later row too late. Default: no bound.", 0);
        var control = new Option<string?>("--control") { Description = "Comma-separated CSV columns that are control inputs, not readings (columns named control_* always are); u_t takes them in the header's order." };
        var onError = new Option<string>("--on-error") { Description = "What a malformed or rejected row does: 'skip' (report it with file and line, and continue) or 'fail' (stop with exit code 1 and write no output).", DefaultValueFactory = _ => "skip" };
        onError.AcceptOnlyFromAmong("skip", "fail");
        var deadLetters = OptionParsers.FileNotStandardOutput(new Option<FileInfo?>("--dead-letters") { Description = "Write rejected rows with their reasons to this JSON Lines file." });
        var parametersOut = OptionParsers.FileNotStandardOutput(new Option<FileInfo?>("--parameters-out") { Description = "At the end, write each stream's learned noise parameters (models with adapt) to this JSON Lines table, one row per stream; the worker (StreamSeq:Processing:ParametersFile) and --parameters-in start streams from it." });
        var parametersIn = new Option<FileInfo?>("--parameters-in") { Description = "Start each new stream from its row of this table (written by --parameters-out) instead of the spec's values." };
        var command = new Command("run", "Replay observations through a model: filtered estimates, smoothed states, forecasts and alerts, exactly as the worker emits them.")
        {
            model, input, output, lag, horizon, smooth, lateness, skew, control, onError, deadLetters, parametersOut, parametersIn,
        };
        command.SetAction(parse =>
        {
            var modelFile = parse.GetValue(model)!;
            return CliErrors.Run(stderr, modelFile.Name, () => Execute(
                new RunRequest
                {
                    ModelPath = modelFile.FullName,
                    InputPath = parse.GetValue(input)!.FullName,
                    OutputPath = parse.GetValue(output)!.ToString(),
                    Lag = parse.GetValue(lag),
                    Horizon = parse.GetValue(horizon),
                    Smooth = parse.GetValue(smooth),
                    Lateness = parse.GetValue(lateness),
                    MaxTimeSkew = parse.GetValue(skew),
                    ControlColumns = parse.GetValue(control)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [],
                    FailFast = parse.GetValue(onError) == "fail",
                    DeadLetterPath = parse.GetValue(deadLetters)?.FullName,
                    ParametersOutPath = parse.GetValue(parametersOut)?.FullName,
                    ParametersInPath = parse.GetValue(parametersIn)?.FullName,
                },
                stdout,
                stderr));
        });
        return command;
    }

    public static int Execute(string modelPath, string inputPath, string outputPath, int lag, int horizon, bool smooth, double lateness, bool failFast, string? deadLetterPath, TextWriter stdout, TextWriter stderr) =>
        Execute(
            new RunRequest
            {
                ModelPath = modelPath,
                InputPath = inputPath,
                OutputPath = outputPath,
                Lag = lag,
                Horizon = horizon,
                Smooth = smooth,
                Lateness = lateness,
                FailFast = failFast,
                DeadLetterPath = deadLetterPath,
            },
            stdout,
            stderr);

    public static int Execute(RunRequest request, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(stderr);
        var lag = Cap("--lag", request.Lag, ProcessorOptions.MaxLag, stderr);
        var horizon = Cap("--horizon", request.Horizon, ProcessorOptions.MaxHorizon, stderr);
        var binding = ModelBindingFactory.Load(request.ModelPath, lag, horizon);
        if (!File.Exists(request.InputPath))
        {
            throw new FileNotFoundException(null, request.InputPath);
        }

        // Ignored before: the run went on as if the records had no control inputs.
        ObservationFiles.CheckControlColumnsApply(request.InputPath, request.ControlColumns);

        var toStdout = request.OutputPath == "-";
        OutputFiles.CheckDistinct(
            [("--output", request.OutputPath), ("--dead-letters", request.DeadLetterPath), ("--parameters-out", request.ParametersOutPath)],
            [("--input", request.InputPath), ("--model", request.ModelPath), ("--parameters-in", request.ParametersInPath), .. binding.Files.Select(f => ("--model weights", (string?)f))]);
        if ((request.ParametersOutPath ?? request.ParametersInPath) is not null && binding.Estimator.Info.Parameters.Count == 0)
        {
            throw new UsageException($"{(request.ParametersOutPath is not null ? "--parameters-out" : "--parameters-in")}: model '{binding.Name}' learns no parameters (its spec has no adapt).");
        }

        var router = new ModelRouter([binding]);
        var options = new ProcessorOptions
        {
            KeepHistory = request.Smooth,
            AllowedLateness = Duration(request.Lateness, binding.UnitMilliseconds),
            MaxTimeSkew = request.MaxTimeSkew is { } skew ? Duration(skew, binding.UnitMilliseconds) : null,
            StartingParameters = request.ParametersInPath is { } table ? ParameterTable.Load(table, router) : null,
        };
        using var processor = new StreamProcessor(router, options, numericTimeFormat: TimeFormat.ModelUnits);
        using var parametersFile = request.ParametersOutPath is null ? null : OutputFiles.Open("--parameters-out", request.ParametersOutPath);
        var store = new StateStore();
        using var outFile = toStdout ? null : OutputFiles.Open("--output", request.OutputPath);
        using var deadFile = request.DeadLetterPath is null ? null : OutputFiles.Open("--dead-letters", request.DeadLetterPath);
        var outStream = outFile?.Stream ?? Console.OpenStandardOutput();
        using var sink = new JsonLinesSink(new BufferedStream(outStream, 1 << 16), deadFile?.Stream, stderr);
        var ok = Progress.Run(stderr, $"run {Path.GetFileName(request.InputPath)}", new FileInfo(request.InputPath).Length, report =>
            ObservationFiles.Replay(request.InputPath, processor, store, sink, request.FailFast, report, request.ControlColumns));
        if (ok)
        {
            processor.Drain(store, sink);
            if (request.Smooth)
            {
                // The backward pass of a particle stream with a transition density is O(N²) a step: a long file can take
                // minutes here after the read's bar has finished, so this pass has its own.
                var notes = new List<string>();
                var kept = store.Streams.Sum(s => (long)(s.History?.Count ?? 0));
                Progress.Run(stderr, "smooth", kept, report =>
                {
                    processor.EmitFixedInterval(store, sink, notes.Add, report);
                    return true;
                });
                foreach (var note in notes)
                {
                    stderr.WriteLine($"warning: {TerminalText.Clean(note)}");
                }
            }
        }

        sink.Dispose();
        // The records by kind, "(100 filtered, 2 anomalies)"; nothing when no record was written.
        var kinds = sink.ByKind.Count == 0 ? string.Empty : $" ({string.Join(", ", sink.ByKind.OrderBy(k => k.Key).Select(k => KindCount(k.Key, k.Value)))})";
        var summary = string.Create(
            CultureInfo.InvariantCulture,
            $"{Counted.Of(processor.Steps, "observation")} in {Counted.Of(store.LiveCount, "stream")} -> {Counted.Of(sink.Written, "record")}{kinds}; {Counted.Of(processor.Duplicates, "duplicate")} dropped, {Counted.Of(sink.Rejected, "row")} rejected.");
        stderr.WriteLine(summary);
        if (ok && processor.Steps + processor.Duplicates == 0 && sink.Rejected == 0)
        {
            // A file with nothing but a header (or an empty JSON Lines file) is not an error, as detect scores such a
            // file to zero rows with exit code 0; but "0 observations" alone did not say why nothing came out.
            var name = TerminalText.Clean(Path.GetFileName(request.InputPath));
            stderr.WriteLine(ObservationFiles.IsJsonLines(request.InputPath)
                ? $"note: {name} has no records; nothing was processed."
                : $"note: {name} has no rows after its header; nothing was processed.");
        }

        // The dead letters explain a failed run, so they are kept whenever the input was read; the output only on success.
        deadFile?.Commit();
        if (!ok)
        {
            stderr.WriteLine($"stopped at the first rejected row (--on-error fail); {(toStdout ? "output incomplete" : $"{request.OutputPath} not written")}.");
            return CliErrors.InvalidInput;
        }

        if (sink.Rejected > 0 && processor.Steps + processor.Duplicates == 0)
        {
            CliErrors.Report(stderr, $"every row of {Path.GetFileName(request.InputPath)} was rejected ({sink.Rejected}); {(toStdout ? "nothing processed" : $"{request.OutputPath} not written")}.");
            return CliErrors.InvalidInput;
        }

        outFile?.Commit();
        if (parametersFile is not null)
        {
            var rows = ParameterTable.Write(parametersFile.Stream, store.Streams);
            parametersFile.Commit();
            stderr.WriteLine($"learned parameters of {Counted.Of(rows, "stream")} -> {request.ParametersOutPath}");
        }

        // A stream that re-initialised has smoothed records for the steps before the restart even when it is short.
        if (lag > 0 && processor.Steps > 0 && store.Streams.All(s => s.Steps <= lag) && !sink.ByKind.ContainsKey(OutputKind.Smoothed))
        {
            stderr.WriteLine($"note: no stream has more than {Counted.Of(lag, "observation")} (--lag {lag}), so no fixed-lag smoothed records were written; --smooth smooths whole streams.");
        }

        return 0;
    }

    /// <summary>
    /// <paramref name="units"/> model time units as a <see cref="TimeSpan"/>; one longer than a TimeSpan holds (about
    /// 29,000 years, e.g. --allowed-lateness 1e308) is <see cref="TimeSpan.MaxValue"/>, no bound in practice, where
    /// <see cref="TimeSpan.FromMilliseconds(double)"/> threw.
    /// </summary>
    private static TimeSpan Duration(double units, double unitMilliseconds)
    {
        var milliseconds = units * unitMilliseconds;
        return milliseconds < TimeSpan.MaxValue.TotalMilliseconds ? TimeSpan.FromMilliseconds(milliseconds) : TimeSpan.MaxValue;
    }

    private static int Cap(string option, int value, int limit, TextWriter stderr)
    {
        if (value <= limit)
        {
            return value;
        }

        stderr.WriteLine($"note: {option} {value} is above the limit of {limit} (the worker's); using {limit}.");
        return limit;
    }

    /// <summary>A count of one kind of output record: "3 filtered", "1 anomaly", "2 anomalies", "12 forecasts".</summary>
    internal static string KindCount(OutputKind kind, long count) => kind switch
    {
        OutputKind.Anomaly => Counted.Of(count, "anomaly", "anomalies"),
        OutputKind.Forecast => Counted.Of(count, "forecast"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{count} {kind.ToString().ToLowerInvariant()}"),
    };
}
