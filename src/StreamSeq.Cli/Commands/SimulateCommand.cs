using System.CommandLine;
using System.Globalization;
using System.Text;
using StreamSeq.Cli.Io;
using StreamSeq.Estimation.Specs;
using StreamSeq.Kafka.Simulation;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.Simulation;

namespace StreamSeq.Cli.Commands;

/// <summary>
/// <c>streamseq simulate</c>: a simulated sensor fleet with injected faults, written to a file or produced live to a
/// Kafka topic (the worker's input).
/// </summary>
internal static class SimulateCommand
{
    /// <summary>The worker's default input topic.</summary>
    public const string DefaultTopic = "streamseq.readings";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var output = OptionParsers.FileNotStandardOutput(new Option<FileInfo?>("--output", "-o") { Description = "Output file: .csv (sensors with as many values each: temperature and pressure, or position; header stream,time,<values>) or .jsonl (input records with 'stream' and the injected 'fault'). Give this or --bootstrap-servers." });
        var bootstrap = OptionParsers.BootstrapServers(new Option<string?>("--bootstrap-servers") { Description = "Produce live to Kafka instead of a file: broker list (host:port,...). Readings are keyed by stream id with a 'sensor-type' header, one round every --pace, timestamped from now." });
        var topic = OptionParsers.TopicNames(new Option<string>("--topic") { Description = "Kafka topic for --bootstrap-servers (the worker's StreamSeq:Kafka:InputTopic).", DefaultValueFactory = _ => DefaultTopic });
        var pace = new Option<string>("--pace") { Description = "Wall-clock time between rounds when producing to Kafka (250ms, 1s, PT1S ...).", DefaultValueFactory = _ => "1s" };
        var client = ClientOption.Create("Extra librdkafka setting key=value for --bootstrap-servers (repeatable), e.g. security.protocol=SASL_SSL. Properties simulate sets itself (bootstrap.servers, enable.idempotence, acks, transactional.id) are refused.", StreamSeq.Kafka.Transport.ReservedClientSettings.ClientRole.SimulatedProducer);
        var streams = OptionParsers.WholeNumber("--streams", "Number of sensor streams.", 12, 1, 10_000_000);
        var rounds = OptionParsers.WholeNumber("--rounds", "Readings per stream (with --bootstrap-servers, 0 runs until stopped).", 1440, 0);
        var seed = OptionParsers.WholeNumber("--seed", "Random seed (same seed, same data).", 42, int.MinValue);
        var kinds = new Option<string?>("--kinds") { Description = "Comma-separated sensor kinds: temperature, position, pressure (default: all)." };
        var interval = new Option<string>("--interval") { Description = "Nominal sampling interval (ISO-8601 or 60s, 1m ...).", DefaultValueFactory = _ => "PT1M" };
        var faultRate = OptionParsers.FiniteNumber("--fault-rate", "Probability per reading that a fault episode starts.", 0.004, 0.0, maximum: 1.0);
        var command = new Command("simulate", "Generate sensor readings with injected spikes, drifts, stuck values, level shifts and gaps, to a file or live to Kafka.")
        {
            output, bootstrap, topic, pace, client, streams, rounds, seed, kinds, interval, faultRate,
        };
        command.SetAction((parse, cancellation) =>
        {
            var file = parse.GetValue(output);
            var servers = parse.GetValue(bootstrap);
            if ((file is null) == string.IsNullOrWhiteSpace(servers))
            {
                CliErrors.Report(stderr, "give exactly one of --output (a file) and --bootstrap-servers (live to Kafka).");
                return Task.FromResult(CliErrors.Usage);
            }

            SimulatorOptions? options = null;
            IReadOnlyList<KeyValuePair<string, string>> settings = [];
            TimeSpan paceValue = default;
            var parsed = CliErrors.Run(stderr, null, () =>
            {
                var kindList = parse.GetValue(kinds)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(k => Enum.TryParse<SensorKind>(k, ignoreCase: true, out var v) && Enum.IsDefined(v) && !k.Any(char.IsAsciiDigit) ? v : throw new UsageException($"--kinds: unknown sensor kind '{k}' (known: temperature, position, pressure)."))
                    .ToArray();
                if (kindList is [])
                {
                    throw new UsageException($"--kinds: '{parse.GetValue(kinds)}' names no sensor kind (known: temperature, position, pressure).");
                }

                options = new SimulatorOptions
                {
                    Streams = parse.GetValue(streams),
                    Seed = parse.GetValue(seed),
                    Kinds = kindList,
                    Interval = Duration("--interval", parse.GetValue(interval)!),
                    FaultRate = parse.GetValue(faultRate),
                    StartMilliseconds = file is null ? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() : new SimulatorOptions().StartMilliseconds,
                };
                CheckInterval(options, parse.GetValue(interval)!, parse.GetValue(rounds));
                if (file is not null)
                {
                    CheckCsvKinds(options, file.ToString());
                }

                if (file is null)
                {
                    paceValue = Duration("--pace", parse.GetValue(pace)!);
                    if (paceValue <= TimeSpan.Zero || paceValue > MaxPace)
                    {
                        throw new UsageException($"--pace: must be between 1ms and {MaxPace.TotalHours:0}h, got '{parse.GetValue(pace)}'.");
                    }

                    settings = ClientOption.Parse(parse.GetValue(client));
                }

                return 0;
            });
            if (parsed != 0)
            {
                return Task.FromResult(parsed);
            }

            var roundCount = parse.GetValue(rounds);
            return file is not null
                ? Task.FromResult(CliErrors.Run(stderr, null, () => Execute(options!, roundCount, file.FullName, stderr)))
                : ProduceAsync(options!, servers!, parse.GetValue(topic)!, paceValue, roundCount, settings, stderr, cancellation);
        });
        return command;
    }

    /// <summary>A duration option's value; a malformed one is a usage error naming the option.</summary>
    private static TimeSpan Duration(string option, string text)
    {
        try
        {
            return ModelSpec.ParseDuration(option, text);
        }
        catch (StreamSeq.Estimation.Abstractions.ModelValidationException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>
    /// Refuses a CSV output for a fleet whose sensors have different numbers of values (position has two, temperature
    /// and pressure one): a CSV file has one set of value columns. Before, the default fleet (every kind) failed with
    /// exit 1 at the first position reading, after the header was written, with a message that asked for one kind
    /// although temperature and pressure share a file.
    /// </summary>
    private static void CheckCsvKinds(SimulatorOptions options, string outputPath)
    {
        if (!outputPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        var all = Enum.GetValues<SensorKind>();
        var kinds = options.Kinds is { Count: > 0 } given ? given : all;
        var used = kinds.Take(options.Streams).Distinct().ToArray();
        if (used.Select(Width).Distinct().Count() > 1)
        {
            var names = string.Join(", ", used.Select(k => $"{k.ToString().ToLowerInvariant()} ({Counted.Of(Width(k), "value")})"));
            throw new UsageException($"--output '{outputPath}': a CSV file has one set of value columns, but the sensors have different numbers of values: {names}; give --kinds temperature,pressure or --kinds position, or write a .jsonl file (any kinds).");
        }

        static int Width(SensorKind kind) => kind == SensorKind.Position ? 2 : 1;
    }

    /// <summary>Rounds an endless run (--rounds 0) is checked for by <see cref="CheckInterval"/>.</summary>
    private const int EndlessRounds = 1_000_000;

    /// <summary>
    /// Refuses an interval shorter than the millisecond readings are stamped with (every round at the same time, each
    /// a conflicting duplicate of the last) or so long that the rounds (a million when endless), with the readings'
    /// 10% jitter, run past the latest time a reading can carry, the end of the year 9999 (before, an interval such
    /// as P9999Y ended simulate with an out-of-range exception reported as a bug).
    /// </summary>
    private static void CheckInterval(SimulatorOptions options, string text, int rounds)
    {
        if (options.Interval < TimeSpan.FromMilliseconds(1))
        {
            throw new UsageException($"--interval: must be at least 1ms (readings are stamped to the millisecond), got '{text}'.");
        }

        var count = rounds == 0 ? EndlessRounds : rounds;
        if (options.StartMilliseconds + ((count + 0.1) * options.Interval.TotalMilliseconds) > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"--interval: {(rounds == 0 ? $"{count} rounds (--rounds 0 runs until stopped)" : $"{count} rounds")} of '{text}' run past the year 9999, the latest time a reading can carry; give a shorter --interval or fewer --rounds."));
        }
    }

    public static int Execute(SimulatorOptions options, int rounds, string outputPath, TextWriter stderr)
    {
        var simulator = new SensorSimulator(options);
        var csv = outputPath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);
        using var file = OutputFiles.Open("--output", outputPath);
        var writer = new StreamWriter(file.Stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
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

        writer.Dispose();
        file.Commit();
        stderr.WriteLine($"wrote {Counted.Of(count, "reading")} of {Counted.Of(options.Streams, "stream")} to {outputPath}");
        return 0;
    }

    /// <summary>The longest --pace (a timer's limit is about 49 days; a day between rounds is already no live feed).</summary>
    public static readonly TimeSpan MaxPace = TimeSpan.FromDays(1);

    /// <summary>How long simulate waits for the broker to answer before it gives up.</summary>
    public static readonly TimeSpan BrokerTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Produces the fleet's readings live to a Kafka topic until <paramref name="rounds"/> are done (0: until cancelled,
    /// Ctrl+C or SIGTERM), then waits for the broker's acknowledgements. Exit code 1, naming the servers, when the broker
    /// does not answer within <see cref="BrokerTimeout"/>, the topic is missing, or a reading was not acknowledged:
    /// before, the readings went nowhere and simulate still said it had produced them and exited 0.
    /// </summary>
    public static async Task<int> ProduceAsync(SimulatorOptions options, string bootstrapServers, string topic, TimeSpan pace, int rounds, IReadOnlyList<KeyValuePair<string, string>> client, TextWriter stderr, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        if (rounds < 0 || pace <= TimeSpan.Zero || pace > MaxPace)
        {
            CliErrors.Report(stderr, $"--rounds must be 0 or more and --pace between 1 ms and {MaxPace.TotalHours:0}h; got {rounds} and {pace}.");
            return CliErrors.Usage;
        }

        var simulator = new SensorSimulator(options);
        using var producer = new SimulatedReadingProducer(bootstrapServers, client);
        if (await Task.Run(() => producer.Reach(topic, BrokerTimeout), CancellationToken.None).ConfigureAwait(false) is { } unreachable)
        {
            CliErrors.Report(stderr, $"cannot produce to '{topic}' at {bootstrapServers} (--bootstrap-servers): {unreachable}.");
            return CliErrors.InvalidInput;
        }

        await stderr.WriteLineAsync($"producing {Counted.Of(options.Streams, "sensor stream")} to {topic} at {bootstrapServers}: one round every {pace.TotalMilliseconds:F0} ms{(rounds == 0 ? " until stopped (Ctrl+C)" : $" for {Counted.Of(rounds, "round")}")}").ConfigureAwait(false);
        using (var stop = StopSignal.Listen(stderr, cancellation))
        {
            await producer.RunAsync(simulator, topic, pace, rounds, TimeProvider.System, stop.Token, stopOnFailure: true).ConfigureAwait(false);
        }

        if (producer.Failed > 0 || producer.Unacknowledged > 0)
        {
            var reason = producer.LastFailure is { } failure ? $": {failure.Reason}" : $" within {BrokerTimeout.TotalSeconds:0} s";
            CliErrors.Report(stderr, $"the broker at {bootstrapServers} acknowledged {producer.Delivered} of {Counted.Of(producer.Produced, "reading")} to {topic}{reason}.");
            return CliErrors.InvalidInput;
        }

        await stderr.WriteLineAsync($"produced {Counted.Of(producer.Produced, "reading")} to {topic}").ConfigureAwait(false);
        return 0;
    }
}
