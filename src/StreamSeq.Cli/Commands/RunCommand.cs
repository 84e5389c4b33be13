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
        var output = CommonOptions.Output("Where to write the output records (JSON Lines); '-' for standard output.");
        var lag = new Option<int>("--lag") { Description = "Also emit a 'smoothed' record for step t-L after each observation (fixed-lag smoothing).", DefaultValueFactory = _ => 0 };
        var horizon = new Option<int>("--horizon") { Description = "Also emit 'forecast' records for horizons 1..K after each observation.", DefaultValueFactory = _ => 0 };
        var smooth = new Option<bool>("--smooth") { Description = "At the end, emit fixed-interval (RTS) smoothed records for every step of every stream." };
        var lateness = new Option<double>("--allowed-lateness") { Description = "Re-order records arriving up to this many model time units late (default 0: out-of-order rows are rejected).", DefaultValueFactory = _ => 0 };
        var onError = new Option<string>("--on-error") { Description = "What a malformed or rejected row does: 'skip' (report it with file and line, and continue) or 'fail' (stop with exit code 2).", DefaultValueFactory = _ => "skip" };
        onError.AcceptOnlyFromAmong("skip", "fail");
        var deadLetters = new Option<FileInfo?>("--dead-letters") { Description = "Write rejected rows with their reasons to this JSON Lines file." };
        var command = new Command("run", "Replay observations through a model: filtered estimates, smoothed states, forecasts and alerts, exactly as the worker emits them.")
        {
            model, input, output, lag, horizon, smooth, lateness, onError, deadLetters,
        };
        lag.Validators.Add(r => { if (r.GetValue(lag) < 0) { r.AddError("--lag must be 0 or positive."); } });
        horizon.Validators.Add(r => { if (r.GetValue(horizon) < 0) { r.AddError("--horizon must be 0 or positive."); } });
        command.SetAction(parse =>
        {
            var modelFile = parse.GetValue(model)!;
            return CliErrors.Run(stderr, modelFile.Name, () => Execute(
                modelFile.FullName,
                parse.GetValue(input)!.FullName,
                parse.GetValue(output)!.ToString(),
                parse.GetValue(lag),
                parse.GetValue(horizon),
                parse.GetValue(smooth),
                parse.GetValue(lateness),
                parse.GetValue(onError) == "fail",
                parse.GetValue(deadLetters)?.FullName,
                stdout,
                stderr));
        });
        return command;
    }

    public static int Execute(string modelPath, string inputPath, string outputPath, int lag, int horizon, bool smooth, double lateness, bool failFast, string? deadLetterPath, TextWriter stdout, TextWriter stderr)
    {
        var binding = ModelBindingFactory.Load(modelPath, lag, horizon);
        if (!File.Exists(inputPath))
        {
            throw new FileNotFoundException(null, inputPath);
        }

        var options = new ProcessorOptions
        {
            KeepHistory = smooth,
            AllowedLateness = TimeSpan.FromMilliseconds(lateness * binding.UnitMilliseconds),
        };
        using var processor = new StreamProcessor(new ModelRouter([binding]), options, numericTimeFormat: TimeFormat.ModelUnits);
        var store = new StateStore();
        var toStdout = outputPath == "-";
        using var outStream = toStdout ? Console.OpenStandardOutput() : File.Create(outputPath);
        using var deadStream = deadLetterPath is null ? null : File.Create(deadLetterPath);
        using var sink = new JsonLinesSink(new BufferedStream(outStream, 1 << 16), deadStream, stderr);
        var ok = Progress.Run(stderr, $"run {Path.GetFileName(inputPath)}", new FileInfo(inputPath).Length, report =>
            ObservationFiles.Replay(inputPath, processor, store, sink, failFast, report));
        if (ok)
        {
            processor.Drain(store, sink);
            if (smooth)
            {
                processor.EmitFixedInterval(store, sink);
            }
        }

        sink.Dispose();
        var summary = string.Create(
            CultureInfo.InvariantCulture,
            $"{processor.Steps} observations in {store.LiveCount} streams -> {sink.Written} records ({string.Join(", ", sink.ByKind.OrderBy(k => k.Key).Select(k => $"{k.Value} {k.Key.ToString().ToLowerInvariant()}"))}); {processor.Duplicates} duplicates dropped, {sink.Rejected} rows rejected.");
        stderr.WriteLine(summary);
        if (!ok)
        {
            stderr.WriteLine("stopped at the first rejected row (--on-error fail).");
            return CliErrors.RejectedRows;
        }

        return 0;
    }
}
