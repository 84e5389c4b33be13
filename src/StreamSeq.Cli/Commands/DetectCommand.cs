using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using StreamSeq.Cli.Io;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Detection;

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
        var output = new Option<string>("--output", "-o")
        {
            Description = "For a file: the CSV to write (timestamp,value,anomaly_score). For a folder: the results root; files go to <root>/<detector>/<category>/<detector>_<name>.csv as NAB lays out results, and the detector's shipped thresholds to <root>/thresholds.json in NAB's layout.",
            Required = true,
        };
        var detectorName = new Option<string>("--detector-name")
        {
            Description = "Detector name for NAB's results layout (folder and file prefix).",
            DefaultValueFactory = _ => "streamseq",
        };
        var model = new Option<FileInfo?>("--model", "-m")
        {
            Description = "Model spec (JSON) with kind 'anomaly-detector' (default: the shipped configuration, src/StreamSeq.Estimation/Detection/anomaly-detector.json).",
        };
        var parallel = new Option<int>("--parallel")
        {
            Description = "Files scored at once in folder mode (each file is still one sequential stream).",
            DefaultValueFactory = _ => 1,
        };
        parallel.Validators.Add(r =>
        {
            if (r.GetValue(parallel) < 1)
            {
                r.AddError("--parallel must be at least 1.");
            }
        });
        detectorName.Validators.Add(r =>
        {
            var name = r.GetValue(detectorName);
            if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.Contains('/', StringComparison.Ordinal))
            {
                r.AddError("--detector-name must be a plain file name (it names a folder and a file prefix).");
            }
        });
        var command = new Command("detect", "Score every row of NAB-style time series (timestamp,value) with an online anomaly detector: one row at a time, only past rows, an anomaly score in [0, 1].")
        {
            input, output, detectorName, model, parallel,
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
                stderr));
        });
        return command;
    }

    public static int Execute(string inputPath, string outputPath, string detectorName, string? modelPath, int parallelism, TextWriter stdout, TextWriter stderr)
    {
        var spec = modelPath is null ? null : ModelSpec.Load(modelPath);
        var runner = new AnomalyFileRunner(spec);
        var watch = Stopwatch.StartNew();
        long rows;
        int files;
        if (Directory.Exists(inputPath))
        {
            var total = Directory.EnumerateFiles(inputPath, "*.csv", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            var scored = Progress.Run(stderr, $"detect {Path.GetFileName(Path.TrimEndingDirectorySeparator(inputPath))}", total, report =>
                runner.ScoreFolder(inputPath, outputPath, detectorName, parallelism, report));
            rows = scored.Sum(f => f.Rows);
            files = scored.Count;
            stdout.WriteLine(Path.GetFullPath(Path.Combine(outputPath, detectorName)));
            var thresholdsPath = Path.Combine(outputPath, NabThresholdsFile.FileName);
            if (runner.Thresholds.Count > 0)
            {
                NabThresholdsFile.Write(thresholdsPath, detectorName, runner.Thresholds);
                stderr.WriteLine($"Thresholds for '{detectorName}' written to {Path.GetFullPath(thresholdsPath)}.");
            }
            else
            {
                stderr.WriteLine($"No thresholds written: model '{runner.Spec.Name}' changes the detector's settings and gives no 'thresholds' for them.");
            }
        }
        else
        {
            if (!File.Exists(inputPath))
            {
                throw new FileNotFoundException(null, inputPath);
            }

            rows = Progress.Run(stderr, $"detect {Path.GetFileName(inputPath)}", new FileInfo(inputPath).Length, report =>
                runner.ScoreFile(inputPath, outputPath, report));
            files = 1;
            stdout.WriteLine(Path.GetFullPath(outputPath));
        }

        var seconds = watch.Elapsed.TotalSeconds;
        stderr.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{rows} rows in {files} file(s) scored by '{runner.Spec.Name}' ({runner.Estimator.Info.Family}) in {seconds:F2} s ({rows / Math.Max(seconds, 1e-9):F0} rows/s)."));
        return 0;
    }
}
