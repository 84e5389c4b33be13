using System.CommandLine;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using StreamSeq.Cli.Commands;
using StreamSeq.Kafka.Embedded;
using StreamSeq.Kafka.Simulation;
using StreamSeq.Processing.Simulation;

namespace StreamSeq.Cli.Tests.Commands;

public sealed class SimulateCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-simulate-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static SimulatorOptions Fleet() => new() { Streams = 9, Seed = 5, FaultRate = 0.05, WarmUpRounds = 2 };

    [Fact]
    public async Task ProduceAsync_ToEmbeddedBroker_SendsTheSameReadingsAsTheFileOutputKeyedWithSensorTypeHeaders()
    {
        const int rounds = 12;
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("readings", 3);
        var errors = new StringWriter();

        var code = await SimulateCommand.ProduceAsync(Fleet(), cluster.BootstrapServers, "readings", TimeSpan.FromMilliseconds(1), rounds, [], errors, CancellationToken.None);

        Assert.Equal(0, code);
        var file = Path.Combine(dir, "fleet.jsonl");
        Assert.Equal(0, SimulateCommand.Execute(Fleet(), rounds, file, TextWriter.Null));
        var expected = File.ReadAllLines(file).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var messages = ReadAll(cluster.BootstrapServers, "readings", 3);
        Assert.Equal(expected.Count, messages.Count);

        // Kafka keeps order per key: compare each stream's readings in order.
        var byStream = messages.GroupBy(m => m.Key).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var group in expected.GroupBy(e => e.GetProperty("stream").GetString()!))
        {
            var produced = byStream[group.Key];
            Assert.Equal(group.Count(), produced.Count);
            foreach (var (want, got) in group.Zip(produced))
            {
                var value = JsonDocument.Parse(got.Value).RootElement;
                Assert.Equal(want.GetProperty("time").GetString(), value.GetProperty("time").GetString());
                Assert.Equal(want.GetProperty("values").GetRawText(), value.GetProperty("values").GetRawText());
                Assert.Equal(group.Key.Split('-')[0], got.SensorType);
            }
        }

        Assert.Contains($"produced {expected.Count} readings", errors.ToString(), StringComparison.Ordinal);
    }

    /// <summary>The summary said "wrote 1 readings of 1 streams": counts agree with their noun.</summary>
    [Fact]
    public void Execute_OneStreamOneRound_SummaryInTheSingular()
    {
        var file = Path.Combine(dir, "one.jsonl");
        var errors = new StringWriter();

        Assert.Equal(0, SimulateCommand.Execute(new SimulatorOptions { Streams = 1, Seed = 5, FaultRate = 0 }, 1, file, errors));

        Assert.Equal($"wrote 1 reading of 1 stream to {file}", errors.ToString().Trim());
    }

    /// <summary>
    /// The default fleet holds 2-D positions next to 1-D temperatures and pressures. To a CSV file it failed with exit 1
    /// at the first position reading ("pick one kind with --kinds"), although the README's usage line shows
    /// --kinds as optional and temperature and pressure share a file well: now a usage error before anything is
    /// written, naming the option and the kinds that fit together.
    /// </summary>
    [Theory]
    [InlineData("--streams 3", "temperature (1 value), position (2 values), pressure (1 value)")]
    [InlineData("--streams 4 --kinds pressure,position", "pressure (1 value), position (2 values)")]
    public void Invoke_CsvOutputForKindsOfDifferentWidths_UsageErrorNamingTheOptionAndTheKinds(string options, string kinds)
    {
        var file = Path.Combine(dir, "fleet.csv");
        var errors = new StringWriter();
        var root = new RootCommand { SimulateCommand.Create(TextWriter.Null, errors) };

        var code = root.Parse([.. $"simulate --rounds 3 {options}".Split(' '), "--output", file]).Invoke();

        Assert.Equal(CliErrors.Usage, code);
        Assert.Equal($"error: --output '{file}': a CSV file has one set of value columns, but the sensors have different numbers of values: {kinds}; give --kinds temperature,pressure or --kinds position, or write a .jsonl file (any kinds).", errors.ToString().Trim());
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
    }

    [Theory]
    [InlineData("--streams 1")]
    [InlineData("--streams 5 --kinds temperature,pressure")]
    [InlineData("--streams 2 --kinds position")]
    public void Invoke_CsvOutputForKindsOfOneWidth_WritesTheFile(string options)
    {
        var file = Path.Combine(dir, "fleet.csv");
        var errors = new StringWriter();
        var root = new RootCommand { SimulateCommand.Create(TextWriter.Null, errors) };

        var code = root.Parse([.. $"simulate --rounds 3 {options}".Split(' '), "--output", file]).Invoke();

        Assert.Equal(0, code);
        Assert.StartsWith("stream,time,value", File.ReadLines(file).First(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("simulate --streams 2")]
    [InlineData("simulate --streams 2 --output x.jsonl --bootstrap-servers localhost:9092")]
    public void Invoke_NeitherOrBothDestinations_FailsWithOneClearLine(string commandLine)
    {
        var errors = new StringWriter();
        var root = new RootCommand { SimulateCommand.Create(TextWriter.Null, errors) };

        var code = root.Parse(commandLine).Invoke();

        Assert.Equal(CliErrors.Usage, code);
        Assert.Equal("error: give exactly one of --output (a file) and --bootstrap-servers (live to Kafka).", errors.ToString().Trim());
    }

    [Fact]
    public async Task Simulate_NoBrokerListening_FailsNamingTheServersInsteadOfSayingItProduced()
    {
        // Before: "produced 24 readings", exit 0, though no broker had acknowledged any.
        var port = ReadCommandTests.ClosedPort();
        var (code, errors) = await Simulate("--bootstrap-servers", $"127.0.0.1:{port}", "--rounds", "2", "--pace", "10ms");

        Assert.Equal(CliErrors.InvalidInput, code);
        var line = Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: cannot produce to 'streamseq.readings' at 127.0.0.1:{port} (--bootstrap-servers): no broker answered within 10 s", line, StringComparison.Ordinal);
        Assert.DoesNotContain("produced", errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("enable.idempotence=false", "must be true or left out")]
    [InlineData("acks=1", "must be all (or -1) or left out")]
    [InlineData("transactional.id=x", "simulate produces without transactions")]
    [InlineData("bootstrap.servers=127.0.0.1:1", "simulate sets bootstrap.servers from --bootstrap-servers")]
    [InlineData("key=", "No such configuration property: \"key\".")]
    [InlineData("=x", "expected key=value")]
    [InlineData("linger.ms=abc", "Invalid value")]
    public async Task Simulate_ClientPropertyUnknownMalformedOrSetByTheCommand_IsAUsageError(string setting, string reason)
    {
        // Before: acks=1, transactional.id and unknown properties were reported as a bug in streamseq (exit 1),
        // enable.idempotence=false and bootstrap.servers were taken silently (the latter produced to another cluster).
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("readings", 1);

        var (code, errors) = await Simulate("--bootstrap-servers", cluster.BootstrapServers, "--topic", "readings", "--rounds", "1", "--client", setting);

        Assert.Equal(CliErrors.Usage, code);
        var first = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0];
        Assert.StartsWith($"error: --client '{setting}': ", first, StringComparison.Ordinal);
        Assert.Contains(reason, first, StringComparison.Ordinal);
        Assert.DoesNotContain("bug", errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--pace", "1e9s", "error: --pace: must be between 1ms and 24h, got '1e9s'.")]
    [InlineData("--pace", "0", "error: --pace: '0' is not a duration")]
    [InlineData("--kinds", ",,", "error: --kinds: ',,' names no sensor kind")]
    [InlineData("--kinds", "1", "error: --kinds: unknown sensor kind '1'")]
    [InlineData("--interval", "soon", "error: --interval: 'soon' is not a duration")]
    public async Task Simulate_HostilePaceKindsOrInterval_IsAUsageError(string option, string value, string expected)
    {
        // Before: --pace 1e9s crashed as a bug (the timer's range), ',,' meant every kind, '1' meant the kind numbered 1,
        // and a malformed duration exited 1 as if the environment were at fault.
        var (code, errors) = await Simulate("--bootstrap-servers", "127.0.0.1:1", "--rounds", "1", option, value);

        Assert.Equal(CliErrors.Usage, code);
        Assert.StartsWith(expected, errors.Split('\n')[0], StringComparison.Ordinal);
    }

    /// <summary>
    /// Readings are stamped to the millisecond and carry a year of at most four digits: before, a shorter interval
    /// stamped every round with the same time (each row a conflicting duplicate for run), and a long one (P9999Y, or
    /// P10D for a million rounds) ended simulate with an out-of-range exception reported as a bug.
    /// </summary>
    [Theory]
    [InlineData("PT0.0001S", "1", "error: --interval: must be at least 1ms (readings are stamped to the millisecond), got 'PT0.0001S'.")]
    [InlineData("P9999Y", "3", "error: --interval: 3 rounds of 'P9999Y' run past the year 9999, the latest time a reading can carry; give a shorter --interval or fewer --rounds.")]
    [InlineData("P10D", "1000000", "error: --interval: 1000000 rounds of 'P10D' run past the year 9999")]
    [InlineData("P3000Y", "0", "error: --interval: 1000000 rounds (--rounds 0 runs until stopped) of 'P3000Y' run past the year 9999")]
    public async Task Simulate_IntervalBelowAMillisecondOrRunningPastTheYear9999_IsAUsageError(string interval, string rounds, string expected)
    {
        var output = Path.Combine(dir, "fleet.csv");
        string[] target = rounds == "0" ? ["--bootstrap-servers", "127.0.0.1:1"] : ["-o", output];

        var (code, errors) = await Simulate([.. target, "--kinds", "temperature", "--streams", "2", "--rounds", rounds, "--interval", interval]);

        Assert.Equal(CliErrors.Usage, code);
        Assert.StartsWith(expected, errors.Split('\n')[0], StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task Simulate_LiveUntilSigterm_StopsCleanlyAndSaysWhatItProduced()
    {
        // Before: SIGTERM killed it (exit 143) without flushing the producer or the closing line.
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("readings", 1);
        var dll = Path.Combine(AppContext.BaseDirectory, "streamseq.dll");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { dll, "simulate", "--bootstrap-servers", cluster.BootstrapServers, "--topic", "readings", "--rounds", "0", "--pace", "20ms", "--streams", "3" })
        {
            start.ArgumentList.Add(a);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var errors = new StringBuilder();
        var producing = new TaskCompletionSource();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (errors)
            {
                errors.AppendLine(e.Data);
            }

            if (e.Data?.StartsWith("producing", StringComparison.Ordinal) == true)
            {
                producing.TrySetResult();
            }
        };
        process.BeginErrorReadLine();
        await producing.Task.WaitAsync(TimeSpan.FromMinutes(1));
        await Task.Delay(500);
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
        {
            await kill.WaitForExitAsync();
        }

        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        string text;
        lock (errors)
        {
            text = errors.ToString();
        }

        var produced = System.Text.RegularExpressions.Regex.Match(text, "produced ([0-9]+) readings to readings");
        Assert.True(produced.Success, text);
        Assert.Equal(long.Parse(produced.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), ReadAll(cluster.BootstrapServers, "readings", 1).Count);
    }

    private static async Task<(int Code, string Errors)> Simulate(params string[] arguments)
    {
        var errors = new StringWriter();
        var root = new RootCommand { SimulateCommand.Create(TextWriter.Null, errors) };
        var code = await CliInvocation.RunAsync(root, ["simulate", .. arguments], TextWriter.Null, errors);
        return (code, errors.ToString());
    }

    [Fact]
    public void Encode_MissingComponent_WritesNullAndRoundTripNumbers()
    {
        var reading = new SimulatedReading("position-0001", SensorKind.Position, 1_767_225_600_000, [0.1 + 0.2, double.NaN], FaultKind.None);

        var text = Encoding.UTF8.GetString(SimulatedReadingProducer.Encode(reading));

        Assert.Equal("{\"time\":\"2026-01-01T00:00:00Z\",\"values\":[0.30000000000000004,null]}", text);
    }

    private static List<(string Key, string Value, string SensorType)> ReadAll(string bootstrap, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "simulate-test-unused",
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var pending = new HashSet<int>(Enumerable.Range(0, partitions));
        var list = new List<(string, string, string)>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (pending.Count > 0 && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (r is null)
            {
                continue;
            }

            if (r.IsPartitionEOF)
            {
                pending.Remove(r.Partition.Value);
                continue;
            }

            var header = r.Message.Headers.TryGetLastBytes(SimulatedReadingProducer.SensorTypeHeader, out var bytes) ? Encoding.UTF8.GetString(bytes) : string.Empty;
            list.Add((r.Message.Key, r.Message.Value, header));
        }

        consumer.Close();
        Assert.Empty(pending);
        return list;
    }
}
