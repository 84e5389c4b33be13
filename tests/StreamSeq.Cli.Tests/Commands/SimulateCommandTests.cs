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
