using System.CommandLine;
using System.Globalization;
using System.Text;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.Simulation;

namespace StreamSeq.Cli.Commands;

/// <summary><c>streamseq simulate</c>: writes a simulated sensor fleet with injected faults to a file.</summary>
internal static class SimulateCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var output = CommonOptions.Output("Output file: .csv (one sensor kind, header stream,time,<values>) or .jsonl (input records with 'stream' and the injected 'fault').");
        var streams = new Option<int>("--streams") { Description = "Number of sensor streams.", DefaultValueFactory = _ => 12 };
        var rounds = new Option<int>("--rounds") { Description = "Readings per stream.", DefaultValueFactory = _ => 1440 };
        var seed = new Option<int>("--seed") { Description = "Random seed (same seed, same data).", DefaultValueFactory = _ => 42 };
        var kinds = new Option<string?>("--kinds") { Description = "Comma-separated sensor kinds: temperature, position, pressure (default: all)." };
        var interval = new Option<string>("--interval") { Description = "Nominal sampling interval (ISO-8601 or 60s, 1m ...).", DefaultValueFactory = _ => "PT1M" };
        var faultRate = new Option<double>("--fault-rate") { Description = "Probability per reading that a fault episode starts.", DefaultValueFactory = _ => 0.004 };
        var command = new Command("simulate", "Generate sensor readings with injected spikes, drifts, stuck values, level shifts and gaps.")
        {
            output, streams, rounds, seed, kinds, interval, faultRate,
        };
        command.SetAction(parse => CliErrors.Run(stderr, null, () =>
        {
            var kindList = parse.GetValue(kinds)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(k => Enum.TryParse<SensorKind>(k, ignoreCase: true, out var v) ? v : throw new FormatException($"--kinds: unknown sensor kind '{k}' (known: temperature, position, pressure)."))
                .ToArray();
            var options = new SimulatorOptions
            {
                Streams = parse.GetValue(streams),
                Seed = parse.GetValue(seed),
                Kinds = kindList,
                Interval = ModelSpec.ParseDuration("--interval", parse.GetValue(interval)!),
                FaultRate = parse.GetValue(faultRate),
            };
            return Execute(options, parse.GetValue(rounds), parse.GetValue(output)!.FullName, stderr);
        }));
        return command;
    }

    public static int Execute(SimulatorOptions options, int rounds, string outputPath, TextWriter stderr)
    {
        var simulator = new SensorSimulator(options);
        var csv = outputPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);
        using var writer = new StreamWriter(outputPath, false, new UTF8Encoding(false));
        var timeText = new char[40];
        long count = 0;
        int? width = null;
        foreach (var r in simulator.Generate(rounds))
        {
            var n = new RecordTime(r.TimeMilliseconds, TimeFormat.Iso8601).FormatIso(timeText);
            var time = new string(timeText, 0, n);
            if (csv)
            {
                if (width is null)
                {
                    width = r.Values.Length;
                    writer.WriteLine("stream,time," + string.Join(",", Enumerable.Range(0, width.Value).Select(i => width == 1 ? "value" : $"value_{i}")));
                }
                else if (width != r.Values.Length)
                {
                    throw new FormatException("CSV output needs sensors of one dimension; pick one kind with --kinds or write .jsonl.");
                }

                writer.WriteLine($"{r.Stream},{time},{string.Join(",", r.Values.Select(v => double.IsNaN(v) ? string.Empty : v.ToString("R", CultureInfo.InvariantCulture)))}");
            }
            else
            {
                var values = string.Join(",", r.Values.Select(v => double.IsNaN(v) ? "null" : v.ToString("R", CultureInfo.InvariantCulture)));
                writer.WriteLine($"{{\"stream\":\"{r.Stream}\",\"time\":\"{time}\",\"values\":[{values}],\"fault\":\"{r.Fault.ToString().ToLowerInvariant()}\"}}");
            }

            count++;
        }

        stderr.WriteLine($"wrote {count} readings of {options.Streams} streams to {outputPath}");
        return 0;
    }
}
