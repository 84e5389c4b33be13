using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using StreamSeq.Cli.Io;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Detection;
using StreamSeq.Processing.Files;

namespace StreamSeq.Cli.Commands;

/// <summary><c>streamseq detect</c>: anomaly scores for NAB-style CSV files, one file or a whole data folder.</summary>
internal static class DetectCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var input = new Option<FileSystemInfo>("--input", "-i")
        {
            Description = "A CSV file with 'timestamp,value' columns, or a folder of them (e.g. NAB's data folder with category subfolders).",
            Required = true,
        };
        var output = OptionParsers.NotBlank(OptionParsers.FileNotStandardOutput(new Option<string>("--output", "-o")
        {
            Description = "For a file: the CSV to write (timestamp,value,anomaly_score). For a folder: the results root; files go to <root>/<detector>/<category>/<detector>_<name>.csv as NAB lays out results, and the detector's shipped thresholds to <root>/thresholds.json in NAB's layout.",
            Required = true,
        }));
        var detectorName = new Option<string>("--detector-name")
        {
            Description = "Detector name for NAB's results layout (folder and file prefix).",
            DefaultValueFactory = _ => "streamseq",
        };
        var model = new Option<FileInfo?>("--model", "-m")
        {
            Description = "Model spec (JSON) with kind 'anomaly-detector' (default: the shipped configuration, src/StreamSeq.Estimation/Detection/anomaly-detector.json).",
        };
        var parallel = OptionParsers.WholeNumber("--parallel", "Files scored at once in folder mode (each file is still one sequential stream).", 1, 1);
        var onError = new Option<string>("--on-error") { Description = "What a malformed row does: 'skip' (report it with file and line, score the rest) or 'fail' (stop; the file's results are not written).", DefaultValueFactory = _ => "skip" };
        onError.AcceptOnlyFromAmong("skip", "fail");
        detectorName.Validators.Add(r =>
        {
            var name = r.GetValue(detectorName);
            // "." and ".." are names of folders already there: ".." put the results beside the results root, not in it.
            if (string.IsNullOrWhiteSpace(name) || name is "." or ".." || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.Contains('/', StringComparison.Ordinal))
            {
                r.AddError("--detector-name must be a plain file name (it names a folder and a file prefix).");
            }
        });
        var command = new Command("detect", "Score every row of NAB-style time series (timestamp,value) with an online anomaly detector: one row at a time, only past rows, an anomaly score in [0, 1].")
        {
            input, output, detectorName, model, parallel, onError,
        };
        command.SetAction(parse =>
        {
            var modelFile = parse.GetValue(model);
            return CliErrors.Run(stderr, modelFile?.Name, () => Execute(
                parse.GetValue(input)!.FullName,
                parse.GetValue(output)!,
                parse.GetValue(detectorName)!,
                modelFile?.FullName,
                parse.GetValue(parallel),
                stdout,
                stderr,
                parse.GetValue(onError) == "fail"));
        });
        return command;
    }

    public static int Execute(string inputPath, string outputPath, string detectorName, string? modelPath, int parallelism, TextWriter stdout, TextWriter stderr, bool failFast = false)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var spec = modelPath is null ? null : ModelSpec.Load(modelPath);
        var runner = new AnomalyFileRunner(spec);
        var watch = Stopwatch.StartNew();
        var reporter = new RejectedRows(stderr);
        Action<string>? rejected = failFast ? null : reporter.Report;
        long rows;
        int files;
        var failures = 0;
        if (Directory.Exists(inputPath))
        {
            var data = FileIdentity.RealPath(inputPath);
            var results = FileIdentity.RealPath(outputPath);
            if (results == data || results.StartsWith(Path.TrimEndingDirectorySeparator(data) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new IOException($"--output '{outputPath}' is inside the --input folder '{inputPath}': results would mix with the data they score.");
            }

            var total = Directory.EnumerateFiles(inputPath, "*.csv", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            var scored = Progress.Run(stderr, $"detect {Path.GetFileName(Path.TrimEndingDirectorySeparator(inputPath))}", total, report =>
                runner.ScoreFolder(inputPath, outputPath, detectorName, parallelism, report, rejected));
            foreach (var failed in scored.Where(f => f.Error is not null))
            {
                // A results file that cannot be written (a read-only or full results folder) is the --output's fault.
                // An error that starts with the file's own path ("cat/a.csv:1: ...") names it once, not twice.
                var named = failed.Error!.StartsWith(failed.RelativePath + ":", StringComparison.Ordinal);
                CliErrors.Report(stderr, $"{(failed.WriteFailed ? "--output: " : string.Empty)}{failed.Error} ({(named ? "not scored" : $"{failed.RelativePath} not scored")})");
                failures++;
            }

            // A header-only file is scored (its results file holds the header alone), but in a folder's total it
            // would pass unseen.
            foreach (var empty in scored.Where(f => f.Error is null && f.Rows == 0))
            {
                stderr.WriteLine($"note: {TerminalText.Clean(empty.RelativePath)} has no rows after its header; its results file holds only the header.");
            }

            rows = scored.Sum(f => f.Rows);
            files = scored.Count - failures;
            var thresholdsPath = Path.Combine(outputPath, NabThresholdsFile.FileName);
            if (failures > 0)
            {
                stderr.WriteLine($"No thresholds written: {Counted.Of(failures, "file")} not scored, so the results are not a complete set.");
            }
            else if (runner.Thresholds.Count > 0)
            {
                try
                {
                    NabThresholdsFile.Write(thresholdsPath, detectorName, runner.Thresholds);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw OutputFileException.For(thresholdsPath, e, "--output");
                }

                stderr.WriteLine($"Thresholds for '{detectorName}' written to {Path.GetFullPath(thresholdsPath)}.");
            }
            else
            {
                stderr.WriteLine($"No thresholds written: model '{runner.Spec.Name}' changes the detector's settings and gives no 'thresholds' for them.");
            }

            // The path for a script to pick up, one line, only when every file was scored (the exit code is 1
            // otherwise): a control or bidirectional character in it shows escaped, as on stderr.
            if (failures == 0)
            {
                stdout.WriteLine(TerminalText.Escape(Path.GetFullPath(Path.Combine(outputPath, detectorName))));
            }
        }
        else
        {
            if (!File.Exists(inputPath))
            {
                throw new FileNotFoundException(null, inputPath);
            }

            OutputFiles.CheckDistinct([("--output", outputPath)], [("--input", inputPath), ("--model", modelPath)]);
            if (Directory.Exists(outputPath))
            {
                // The scorer's own message named neither the option nor the path: "error: it is a folder."
                throw new IOException($"--output: cannot write '{outputPath}': it is a folder (a results root is for a folder --input; for one file give the CSV to write).");
            }

            try
            {
                rows = Progress.Run(stderr, $"detect {Path.GetFileName(inputPath)}", new FileInfo(inputPath).Length, report =>
                    runner.ScoreFile(inputPath, outputPath, report, rejected));
            }
            catch (OutputFileException e) when (e.Label is null)
            {
                throw new OutputFileException(e.Path, e.Reason, e, "--output");
            }
            files = 1;
            stdout.WriteLine(TerminalText.Escape(Path.GetFullPath(outputPath)));
        }

        var seconds = watch.Elapsed.TotalSeconds;
        stderr.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{Counted.Of(rows, "row")} in {Counted.Of(files, "file")} scored by '{runner.Spec.Name}' ({runner.Estimator.Info.Family}) in {seconds:F2} s ({rows / Math.Max(seconds, 1e-9):F0} rows/s); {Counted.Of(reporter.Count, "row")} rejected{(failures > 0 ? $", {Counted.Of(failures, "file")} not scored" : string.Empty)}."));
        if (failures > 0)
        {
            return CliErrors.InvalidInput;
        }

        return 0;
    }
}
