using System.CommandLine;
using Confluent.Kafka;
using StreamSeq.Kafka.Embedded;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.Cli.Commands;

/// <summary>
/// <c>streamseq broker</c>: the embedded Kafka-protocol broker (librdkafka's mock cluster) as a process of its own, in
/// the foreground until Ctrl+C, so that a worker, a simulator and a reader can run as separate processes against it.
/// </summary>
internal static class BrokerCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var port = new Option<int?>("--port") { Description = "Port of the (first) broker on 127.0.0.1; further brokers take the next ports. Default: ports chosen by the system." };
        var brokers = new Option<int>("--brokers") { Description = "Number of brokers.", DefaultValueFactory = _ => 1 };
        var topics = new Option<string[]>("--topic") { Description = "Create a topic: NAME[:PARTITIONS[:REPLICATION]] (repeatable). The embedded broker has no Admin API: clients cannot create topics.", AllowMultipleArgumentsPerToken = false };
        var workerTopics = new Option<bool>("--worker-topics") { Description = "Create the worker's topics under their default names (readings, the four outputs, dead letters, changelog) with --partitions partitions." };
        var partitions = new Option<int>("--partitions") { Description = "Partitions of each topic --worker-topics creates.", DefaultValueFactory = _ => 4 };
        var rebalanceDelay = new Option<int>("--rebalance-delay") { Description = "How long (ms) a new classic consumer group waits for more members before its first assignment.", DefaultValueFactory = _ => 0 };
        var heartbeat = new Option<int>("--consumer-heartbeat") { Description = "Heartbeat interval (ms) of group.protocol=consumer groups (bounds how fast partitions move).", DefaultValueFactory = _ => 250 };
        var command = new Command("broker", "Run the embedded Kafka-protocol broker in the foreground until Ctrl+C; the first line of standard output is its bootstrap address. For development: no transaction isolation, no Admin API, no compaction, about 5 MiB kept per partition (see docs/kafka-embedded.md).")
        {
            port, brokers, topics, workerTopics, partitions, rebalanceDelay, heartbeat,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            List<BrokerTopic> wanted = [];
            var problem = CliErrors.Run(stderr, null, () =>
            {
                wanted = [.. (parse.GetValue(topics) ?? []).Select(BrokerTopic.Parse)];
                if (parse.GetValue(workerTopics))
                {
                    wanted.AddRange(WorkerTopics(parse.GetValue(partitions)));
                }

                Check(parse.GetValue(port), parse.GetValue(brokers), parse.GetValue(partitions), parse.GetValue(rebalanceDelay), parse.GetValue(heartbeat), wanted);
                return 0;
            });
            if (problem != 0)
            {
                return problem;
            }

            EmbeddedKafkaCluster cluster;
            try
            {
                cluster = parse.GetValue(port) is { } first ? EmbeddedKafkaCluster.Start(parse.GetValue(brokers), first) : EmbeddedKafkaCluster.Start(parse.GetValue(brokers));
            }
            catch (InvalidOperationException e)
            {
                await stderr.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return CliErrors.InvalidInput;
            }

            try
            {
                cluster.SetInitialRebalanceDelay(TimeSpan.FromMilliseconds(parse.GetValue(rebalanceDelay)));
                cluster.SetConsumerGroupHeartbeatInterval(TimeSpan.FromMilliseconds(parse.GetValue(heartbeat)));
                foreach (var topic in wanted)
                {
                    try
                    {
                        cluster.CreateTopic(topic.Name, topic.Partitions, topic.ReplicationFactor);
                    }
                    catch (KafkaException e)
                    {
                        await stderr.WriteLineAsync($"error: --topic {topic.Name}: {e.Error.Reason}").ConfigureAwait(false);
                        return CliErrors.InvalidInput;
                    }
                }

                // The first line of standard output is the bootstrap address, for scripts to read.
                await stdout.WriteLineAsync(cluster.BootstrapServers).ConfigureAwait(false);
                await stdout.FlushAsync(cancellation).ConfigureAwait(false);
                await stderr.WriteLineAsync($"embedded Kafka broker at {cluster.BootstrapServers}: {cluster.BrokerCount} broker(s), topics {(wanted.Count == 0 ? "none" : string.Join(", ", wanted.Select(t => $"{t.Name}:{t.Partitions}")))}; Ctrl+C stops it (and its data: it keeps everything in memory).").ConfigureAwait(false);
                try
                {
                    using var stop = StopSignal.Listen(cancellation);
                    await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl+C or SIGTERM: a normal stop.
                }
            }
            finally
            {
                // Closing the mock can take a second or two while clients are still connected; Ctrl+C should not wait
                // on it for long (the data goes with the process either way).
                await Task.WhenAny(Task.Run(cluster.Dispose, CancellationToken.None), Task.Delay(TimeSpan.FromSeconds(1.5), CancellationToken.None)).ConfigureAwait(false);
            }

            await stderr.WriteLineAsync("embedded Kafka broker stopped").ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    /// <summary>Throws a <see cref="FormatException"/> naming the option when the numbers cannot work.</summary>
    private static void Check(int? port, int brokers, int partitions, int rebalanceDelay, int heartbeat, List<BrokerTopic> topics)
    {
        if (brokers < 1 || partitions < 1 || heartbeat < 1 || rebalanceDelay < 0)
        {
            throw new FormatException("--brokers, --partitions and --consumer-heartbeat must be positive, --rebalance-delay 0 or more.");
        }

        if (port is { } first && (first < 1 || first + brokers - 1 > 65535))
        {
            throw new FormatException($"--port {first}: the brokers' ports must lie between 1 and 65535.");
        }

        if (topics.FirstOrDefault(t => t.ReplicationFactor > brokers) is { } tooMany)
        {
            throw new FormatException($"--topic {tooMany.Name}: replication factor {tooMany.ReplicationFactor} exceeds --brokers {brokers}.");
        }
    }

    private static IEnumerable<BrokerTopic> WorkerTopics(int partitions)
    {
        var names = new KafkaTransportOptions();
        return new[] { names.InputTopic, names.FilteredTopic, names.SmoothedTopic, names.ForecastTopic, names.AnomalyTopic, names.DeadLetterTopic, names.ChangelogTopic }
            .Select(name => new BrokerTopic(name, partitions, 1));
    }
}
