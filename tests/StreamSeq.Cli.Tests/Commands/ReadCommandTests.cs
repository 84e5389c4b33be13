using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using StreamSeq.Cli.Commands;
using StreamSeq.Kafka.Embedded;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.Cli.Tests.Commands;

/// <summary><c>streamseq read</c> and <c>streamseq broker</c> against the embedded broker over TCP.</summary>
public sealed class ReadCommandTests
{
    private static readonly byte[] NotUtf8 = [0x74, 0xff, 0xfe];

    [Fact]
    public async Task Read_EveryFormat_OneJsonDocumentPerRecordExactForJsonValues()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("mixed", 1);
        Produce(cluster, "mixed",
        [
            Message("s/1", """{"time":"2026-01-01T00:00:00Z","values":[21.5,null]}"""u8.ToArray()),
            Message("s-2", "{\n  \"time\": 2,\n  \"values\": [1]\n}"u8.ToArray(), ("sensor-type", "temperature"u8.ToArray())),
            Message("s-3", "not json"u8.ToArray()),
            Message("s-4", NotUtf8, ("reason", NotUtf8)),
            Message(null, null),
        ]);

        var (code, values, _) = await Read(cluster, "--topic", "mixed", "--from-beginning");
        var (_, records, _) = await Read(cluster, "--topic", "mixed", "--from-beginning", "--format", "record");
        var (_, inputs, errors) = await Read(cluster, "--topic", "mixed", "--from-beginning", "--format", "input");

        Assert.Equal(0, code);
        Assert.Equal(
            [
                """{"time":"2026-01-01T00:00:00Z","values":[21.5,null]}""",
                """{"time":2,"values":[1]}""",
                "\"not json\"",
                """{"base64":"dP/+"}""",
                "null",
            ],
            values);

        var all = records.Select(r => JsonDocument.Parse(r).RootElement).ToList();
        Assert.Equal([0, 1, 2, 3, 4], all.Select(r => r.GetProperty("offset").GetInt64()));
        Assert.Equal("s/1", all[0].GetProperty("key").GetString());
        Assert.Equal(21.5, all[0].GetProperty("value").GetProperty("values")[0].GetDouble());
        Assert.Equal("temperature", all[1].GetProperty("headers")[0].GetProperty("value").GetString());
        Assert.Equal("dP/+", all[3].GetProperty("headers")[0].GetProperty("value").GetProperty("base64").GetString());
        Assert.Equal(JsonValueKind.Null, all[4].GetProperty("key").ValueKind);

        // The input of streamseq run: the key as the 'stream' field; records that cannot be input are skipped and counted.
        Assert.Equal(["""{"stream":"s/1","time":"2026-01-01T00:00:00Z","values":[21.5,null]}""", """{"stream":"s-2","time":2,"values":[1]}"""], inputs);
        Assert.Contains("3 records without a key or a JSON object value skipped", errors, StringComparison.Ordinal);
    }

    /// <summary>The summary said "read 1 records" and "1 records without a key ... skipped": counts agree with their noun.</summary>
    [Fact]
    public async Task Read_OneRecordAndOneSkipped_SummarySaysRecordInTheSingular()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("one", 1);
        Produce(cluster, "one", [Message("s-1", """{"time":1,"values":[1]}"""u8.ToArray()), Message(null, "not json"u8.ToArray())]);

        var (code, _, errors) = await Read(cluster, "--topic", "one", "--from-beginning", "--format", "input");
        var (_, _, both) = await Read(cluster, "--topic", "one", "--from-beginning");

        Assert.Equal(0, code);
        Assert.Contains("read 1 record from one; 1 record without a key or a JSON object value skipped (--format input)", errors.Split('\n'));
        Assert.Contains("read 2 records from one", both.Split('\n'));
    }

    /// <summary>
    /// Records as an adversary would write them: escape sequences, C1 controls, DEL, NUL, bidi overrides, invalid
    /// UTF-8 and lone surrogates in keys, header keys and values, JSON and not. Every format prints lines a terminal
    /// shows as text (no raw C0/C1 control, DEL or bidi control), each one JSON document that parses back to the text.
    /// </summary>
    [Fact]
    public async Task Read_HostileKeysHeadersAndValues_PrintNoRawControlsAndParseBackToTheSameText()
    {
        // Before: --format value printed raw C1 controls, DEL, tabs, bidi overrides and invalid UTF-8 from JSON values,
        // --format record and input printed bidi overrides raw, and an unpaired surrogate escape stopped --format
        // record at that record (exit 1, the rest unread).
        const string Osc = "\u001b]0;pwned\u0007";
        const string C1 = "x\u009B31mred\u0085next\u007Fdel";
        const string Bidi = "ab\u202Ecd\u2066e\u2069\u200F";
        byte[] notUtf8Json = [(byte)'"', 0x61, 0xff, 0x62, (byte)'"'];
        var values = new (byte[] Bytes, string Expected)[]
        {
            (Encoding.UTF8.GetBytes(Osc + "\u001b[2J"), JsonSerializer.Serialize(Osc + "\u001b[2J")),
            (Encoding.UTF8.GetBytes("\"" + C1 + "\""), JsonSerializer.Serialize(C1)),
            (Encoding.UTF8.GetBytes("{\"a\":\"" + C1 + "\",\"b\":\t1}"), JsonSerializer.Serialize(new { a = C1, b = 1 })),
            (Encoding.UTF8.GetBytes("[\"" + Bidi + "\"]"), JsonSerializer.Serialize(new[] { Bidi })),
            (Encoding.UTF8.GetBytes("a\0b"), JsonSerializer.Serialize("a\0b")),
            ("\"\\ud800x\""u8.ToArray(), JsonSerializer.Serialize("\"\\ud800x\"")),
            (notUtf8Json, JsonSerializer.Serialize(new { base64 = Convert.ToBase64String(notUtf8Json) })),
            (Encoding.UTF8.GetBytes("\"" + new string('y', 200_000) + "\u009B\""), JsonSerializer.Serialize(new string('y', 200_000) + "\u009B")),
        };
        byte[] headerValue = [0x1b, 0xff, 0x9b];
        string Key(int i) => i % 2 == 0 ? Osc + Bidi : C1;
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("hostile", 1);
        Produce(cluster, "hostile", values.Select((v, i) => Message(Key(i), v.Bytes, (Osc, Encoding.UTF8.GetBytes(C1)), ("h\u0085", headerValue))));

        var problems = new List<string>();
        var printed = new Dictionary<string, List<string>>();
        foreach (var format in new[] { "value", "record", "input" })
        {
            var output = new MemoryStream();
            var errors = new StringWriter();
            var root = new RootCommand { ReadCommand.Create(() => output, errors) };
            var code = await CliInvocation.RunAsync(root, ["read", "--bootstrap-servers", cluster.BootstrapServers, "--topic", "hostile", "--from-beginning", "--format", format], TextWriter.Null, errors);
            var bytes = output.ToArray();
            if (code != 0)
            {
                problems.Add($"{format}: exit {code}: {errors}");
            }

            if (!TerminalSafe(bytes, out var problem))
            {
                problems.Add($"{format}: {problem}");
            }

            printed[format] = [.. Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries)];
        }

        Assert.Empty(problems);

        // Each line parses back to what the record held.
        Assert.Equal(values.Length, printed["value"].Count);
        Assert.Equal(values.Length, printed["record"].Count);
        foreach (var (line, i) in printed["value"].Select((l, i) => (l, i)))
        {
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(values[i].Expected), JsonNode.Parse(line)), $"{i}: {line[..Math.Min(line.Length, 200)]}");
        }

        foreach (var (line, i) in printed["record"].Select((l, i) => (l, i)))
        {
            var record = JsonNode.Parse(line)!;
            Assert.Equal(Key(i), record["key"]!.GetValue<string>());
            Assert.Equal(Osc, record["headers"]![0]!["key"]!.GetValue<string>());
            Assert.Equal(C1, record["headers"]![0]!["value"]!.GetValue<string>());
            Assert.Equal("h\u0085", record["headers"]![1]!["key"]!.GetValue<string>());
            Assert.Equal(Convert.ToBase64String(headerValue), record["headers"]![1]!["value"]!["base64"]!.GetValue<string>());
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(values[i].Expected), record["value"]), $"{i}: {line[..Math.Min(line.Length, 200)]}");
        }

        // Only the object value is input; its key became the stream.
        var input = Assert.Single(printed["input"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(JsonSerializer.Serialize(new { stream = Osc + Bidi, a = C1, b = 1 })), JsonNode.Parse(input)), input);
        Assert.Contains("\\u202E", input, StringComparison.Ordinal);
    }

    /// <summary>Whether <paramref name="bytes"/> are UTF-8 lines holding no control character (but the newlines), DEL or bidi control.</summary>
    internal static bool TerminalSafe(byte[] bytes, out string problem)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            problem = $"invalid UTF-8 at byte {e.Index}";
            return false;
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if ((char.IsControl(c) && c != '\n') || c is '\u2028' or '\u2029' or '\u200E' or '\u200F' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069'))
            {
                problem = $"raw U+{(int)c:X4} at {i}: {text.Substring(Math.Max(0, i - 30), Math.Min(60, text.Length - Math.Max(0, i - 30)))}";
                return false;
            }
        }

        problem = string.Empty;
        return true;
    }

    [Fact]
    public async Task Read_AbortedWorkerTransactionOnTheEmbeddedBroker_AutoUsesTheMarkerRuleAndLeavesItOut()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("out", 1);
        cluster.CreateTopic(new KafkaTransportOptions().ChangelogTopic, 1);
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, TransactionalId = "reader-test" }).SetLogHandler((_, _) => { }).Build())
        {
            producer.InitTransactions(TimeSpan.FromSeconds(30));
            foreach (var (stamp, commit) in new[] { ("w/r/1/0", true), ("w/r/2/0", false), ("w/r/3/0", true) })
            {
                var headers = new Headers { { ChangelogKeys.TransactionHeader, Encoding.UTF8.GetBytes(stamp) } };
                producer.BeginTransaction();
                producer.Produce("out", new Message<byte[], byte[]> { Key = "k"u8.ToArray(), Value = Encoding.UTF8.GetBytes($"\"{stamp}\""), Headers = headers });
                if (commit)
                {
                    producer.Produce(new KafkaTransportOptions().ChangelogTopic, new Message<byte[], byte[]> { Key = ChangelogKeys.OffsetKey("in", 0), Value = ChangelogKeys.OffsetValue(1), Headers = headers });
                    producer.CommitTransaction(TimeSpan.FromSeconds(30));
                }
                else
                {
                    producer.Flush(TimeSpan.FromSeconds(30));
                    producer.AbortTransaction(TimeSpan.FromSeconds(30));
                }
            }
        }

        var (code, auto, errors) = await Read(cluster, "--topic", "out", "--from-beginning");
        var (_, broker, _) = await Read(cluster, "--topic", "out", "--from-beginning", "--isolation", "broker");

        Assert.Equal(0, code);
        Assert.Contains("marker rule", errors, StringComparison.Ordinal);
        Assert.Equal(["\"w/r/1/0\"", "\"w/r/3/0\""], auto);

        // read_committed on the embedded broker shows the aborted record: the gap the marker rule closes.
        Assert.Equal(["\"w/r/1/0\"", "\"w/r/2/0\"", "\"w/r/3/0\""], broker);
    }

    [Theory]
    [InlineData("--topic nowhere --from-beginning", 1, "error: topic 'nowhere' does not exist")]
    [InlineData("--topic mixed", 2, "error: nothing to read")]
    [InlineData("--topic mixed --from-beginning --max-records -1", 2, "error: --max-records: must be at least 0, got -1.")]
    [InlineData("--topic mixed --from-beginning --client nonsense", 2, "error: --client 'nonsense': expected key=value")]
    [InlineData("--topic mixed --from-beginning --client =x", 2, "error: --client '=x': expected key=value")]
    [InlineData("--topic mixed --from-beginning --client key=", 2, "error: --client 'key=': No such configuration property: \"key\".")]
    [InlineData("--topic mixed --from-beginning --client bogus.key=1", 2, "error: --client 'bogus.key=1': No such configuration property: \"bogus.key\".")]
    [InlineData("--topic mixed --from-beginning --client fetch.wait.max.ms=5 --client fetch.wait.max.ms=6", 2, "error: --client 'fetch.wait.max.ms=6': fetch.wait.max.ms is given twice")]
    [InlineData("--topic mixed --from-beginning --max-records 99999999999", 2, "error: --max-records: must be between 0 and 2147483647, got 99999999999.")]
    public async Task Read_BadRequest_OneLineAndAnExitCode(string arguments, int exitCode, string expected)
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("mixed", 1);

        var (code, lines, errors) = await Read(cluster, arguments.Split(' '));

        Assert.Equal(exitCode, code);
        Assert.Empty(lines);
        Assert.StartsWith(expected, errors.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bootstrap.servers=127.0.0.1:1", "read sets bootstrap.servers from --bootstrap-servers")]
    [InlineData("isolation.level=read_uncommitted", "must be read_committed or left out")]
    [InlineData("enable.auto.commit=true", "must be false or left out")]
    [InlineData("group.id=orders-service", "never joins or commits to a consumer group")]
    [InlineData("auto.offset.reset=latest", "--from-beginning")]
    [InlineData("enable.partition.eof=false", "must be true or left out")]
    public async Task Read_ClientPropertyTheCommandSetsItself_IsAUsageErrorBeforeAnyRead(string setting, string reason)
    {
        // Before, these were passed through: read_uncommitted printed aborted records, a group id with auto commit moved
        // that group's offsets, enable.partition.eof=false made a read without --follow wait forever, and
        // bootstrap.servers read another cluster than --bootstrap-servers named.
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("mixed", 1);
        Produce(cluster, "mixed", [Message("k", "1"u8.ToArray())]);

        var (code, lines, errors) = await Read(cluster, "--topic", "mixed", "--from-beginning", "--client", setting);

        Assert.Equal(2, code);
        Assert.Empty(lines);
        var first = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0];
        Assert.StartsWith($"error: --client '{setting}': ", first, StringComparison.Ordinal);
        Assert.Contains(reason, first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_ClientPropertyWithTheValueReadUsesAnyway_IsAccepted()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("mixed", 1);
        Produce(cluster, "mixed", [Message("k", "1"u8.ToArray())]);

        var (code, lines, _) = await Read(cluster, "--topic", "mixed", "--from-beginning", "--client", "isolation.level=read_committed", "--client", "enable.partition.eof=true", "--client", "fetch.wait.max.ms=20");

        Assert.Equal(0, code);
        Assert.Equal(["1"], lines);
    }

    [Theory]
    [InlineData("kafka:notaport", "'kafka:notaport' has the port 'notaport'")]
    [InlineData("http://x:9092", "'http://x:9092' starts with 'http://'")]
    [InlineData("a:9092;b:9092", "'a:9092;b:9092' holds a space or ';'")]
    public async Task ReadAndSimulate_MalformedBrokerList_IsAUsageErrorAtOnce(string servers, string problem)
    {
        // Before, both waited for the client's timeout: read then said "Broker transport failure" (exit 1) and simulate
        // said it had produced every reading (exit 0).
        foreach (var command in new[] { "read --topic t --from-beginning", "simulate --rounds 1" })
        {
            var errors = new StringWriter();
            var root = new RootCommand { ReadCommand.Create(() => new MemoryStream(), errors), SimulateCommand.Create(TextWriter.Null, errors) };
            var args = command.Split(' ').Concat(["--bootstrap-servers", servers]).ToArray();

            var code = await CliInvocation.RunAsync(root, args, TextWriter.Null, errors);

            Assert.Equal(2, code);
            Assert.StartsWith($"error: --bootstrap-servers: {problem}", errors.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Read_NoBrokerListening_FailsWithinItsTimeoutNamingTheServers()
    {
        var port = ClosedPort();

        var output = new MemoryStream();
        var errors = new StringWriter();
        var root = new RootCommand { ReadCommand.Create(() => output, errors) };
        var run = CliInvocation.RunAsync(root, ["read", "--bootstrap-servers", $"127.0.0.1:{port}", "--topic", "t", "--from-beginning"], TextWriter.Null, errors);

        // A liveness bound, far above the command's own waits (10 s for the broker check, 10 s for the metadata).
        Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(2))));
        Assert.Equal(1, await run);
        var line = Assert.Single(errors.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"no broker at 127.0.0.1:{port} (--bootstrap-servers) answered", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("broker --topic a --topic a:3", "error: --topic a: given more than once; create each topic once.")]
    [InlineData("broker --worker-topics --topic streamseq.readings:2", "error: --topic streamseq.readings: given more than once (--worker-topics creates it too); create each topic once.")]
    [InlineData("broker --topic a:-1", "error: --topic 'a:-1': partitions must be a positive integer, not '-1'.")]
    [InlineData("broker --port 0", "error: --port: must be between 1 and 65535, got 0.")]
    [InlineData("broker --port 65535 --brokers 2", "error: --port 65535: the brokers' ports must lie between 1 and 65535.")]
    public async Task Broker_TopicTwiceOrNegative_UsageErrorBeforeTheBrokerStarts(string commandLine, string expected)
    {
        // Before, a topic given twice started the broker and then failed with the mock's TopicAlreadyExists, exit 1.
        var errors = new StringWriter();
        var output = new StringWriter();
        var root = new RootCommand { BrokerCommand.Create(output, errors) };

        var code = await CliInvocation.RunAsync(root, commandLine.Split(' '), output, errors);

        Assert.Equal(2, code);
        Assert.Equal(expected, errors.ToString().Split('\n')[0].Trim());
        Assert.Empty(output.ToString());
    }

    internal static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Broker_PortInUse_OneLineAndExitCodeOne()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var errors = new StringWriter();
        var root = new RootCommand { BrokerCommand.Create(TextWriter.Null, errors) };

        var code = await CliInvocation.RunAsync(root, ["broker", "--port", $"{port}"], TextWriter.Null, errors);

        Assert.Equal(1, code);
        var line = Assert.Single(errors.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"127.0.0.1:{port}", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("broker --topic a:0", "error: --topic 'a:0': partitions must be a positive integer, not '0'.")]
    [InlineData("broker --topic a:1:2", "error: --topic a: replication factor 2 exceeds --brokers 1.")]
    [InlineData("broker --port 70000", "error: --port: must be between 1 and 65535, got 70000.")]
    [InlineData("broker --brokers 0", "error: --brokers: must be between 1 and 64, got 0.")]
    public async Task Broker_BadOption_UsageErrorNamingIt(string commandLine, string expected)
    {
        var errors = new StringWriter();
        var root = new RootCommand { BrokerCommand.Create(TextWriter.Null, errors) };

        var code = await CliInvocation.RunAsync(root, commandLine.Split(' '), TextWriter.Null, errors);

        Assert.Equal(2, code);
        Assert.Equal(expected, errors.ToString().Split('\n')[0].Trim());
    }

    private static Message<byte[], byte[]> Message(string? key, byte[]? value, params (string Name, byte[] Value)[] headers)
    {
        var list = new Headers();
        foreach (var (name, bytes) in headers)
        {
            list.Add(name, bytes);
        }

        return new Message<byte[], byte[]> { Key = key is null ? null! : Encoding.UTF8.GetBytes(key), Value = value!, Headers = list };
    }

    private static void Produce(EmbeddedKafkaCluster cluster, string topic, IEnumerable<Message<byte[], byte[]>> messages)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).SetLogHandler((_, _) => { }).Build();
        foreach (var m in messages)
        {
            producer.Produce(new TopicPartition(topic, 0), m);
        }

        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
    }

    private static async Task<(int Code, List<string> Lines, string Errors)> Read(EmbeddedKafkaCluster cluster, params string[] arguments)
    {
        var output = new MemoryStream();
        var errors = new StringWriter();
        var root = new RootCommand { ReadCommand.Create(() => output, errors) };
        var code = await CliInvocation.RunAsync(root, ["read", "--bootstrap-servers", cluster.BootstrapServers, .. arguments], TextWriter.Null, errors);
        var text = Encoding.UTF8.GetString(output.ToArray());
        return (code, [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries)], errors.ToString());
    }
}
