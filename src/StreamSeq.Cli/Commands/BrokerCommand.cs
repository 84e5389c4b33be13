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
        var port = OptionParsers.OptionalWholeNumber("--port", "Port of the (first) broker on 127.0.0.1; further brokers take the next ports. Default: ports chosen by the system.", 1, 65535);
        var brokers = OptionParsers.WholeNumber("--brokers", "Number of brokers.", 1, 1, 64);
        var topics = new Option<string[]>("--topic") { Description = "Create a topic: NAME[:PARTITIONS[:REPLICATION]] (repeatable). The embedded broker has no Admin API: clients cannot create topics.", AllowMultipleArgumentsPerToken = false };
        var workerTopics = new Option<bool>("--worker-topics") { Description = "Create the worker's topics under their default names (readings, the four outputs, dead letters, changelog) with --partitions partitions." };
        var partitions = OptionParsers.WholeNumber("--partitions", "Partitions of each topic --worker-topics creates.", 4, 1, BrokerTopic.MaxPartitions);
        var rebalanceDelay = OptionParsers.WholeNumber("--rebalance-delay", "How long (ms) a new classic consumer group waits for more members before its first assignment.", 0, 0);
        var heartbeat = OptionParsers.WholeNumber("--consumer-heartbeat", "Heartbeat interval (ms) of group.protocol=consumer groups (bounds how fast partitions move).", 250, 1);
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

                Check(parse.GetValue(port), parse.GetValue(brokers), wanted);
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
                CliErrors.Report(stderr, e.Message);
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
                        CliErrors.Report(stderr, $"--topic {topic.Name}: {e.Error.Reason}");
                        return CliErrors.InvalidInput;
                    }
                }

                // Listening before the address is printed: a script may stop the broker as soon as it reads it.
                using var stop = StopSignal.Listen(stderr, cancellation);

                // The first line of standard output is the bootstrap address, for scripts to read.
                await stdout.WriteLineAsync(cluster.BootstrapServers).ConfigureAwait(false);
                await stdout.FlushAsync(cancellation).ConfigureAwait(false);
                await stderr.WriteLineAsync($"embedded Kafka broker at {cluster.BootstrapServers}: {cluster.BrokerCount} broker(s), topics {(wanted.Count == 0 ? "none" : string.Join(", ", wanted.Select(t => $"{t.Name}:{t.Partitions}:{t.ReplicationFactor}")))}; Ctrl+C stops it (and its data: it keeps everything in memory).").ConfigureAwait(false);
                try
                {
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

    /// <summary>Throws a <see cref="UsageException"/> naming the option when the options contradict each other.</summary>
    private static void Check(int? port, int brokers, List<BrokerTopic> topics)
    {
        if (port is { } first && (first < 1 || first + brokers - 1 > 65535))
        {
            throw new UsageException($"--port {first}: the brokers' ports must lie between 1 and 65535.");
        }

        // Before, a second --topic of the same name (or one of --worker-topics) failed only once the broker was up, as
        // an environment error with the mock's reason.
        if (topics.GroupBy(t => t.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new UsageException($"--topic {twice.Key}: given more than once{(twice.Any(t => t.FromWorkerTopics) ? " (--worker-topics creates it too)" : string.Empty)}; create each topic once.");
        }

        if (topics.FirstOrDefault(t => t.ReplicationFactor > brokers) is { } tooMany)
        {
            throw new UsageException($"--topic {tooMany.Name}: replication factor {tooMany.ReplicationFactor} exceeds --brokers {brokers}.");
        }
    }

    private static IEnumerable<BrokerTopic> WorkerTopics(int partitions)
    {
        var names = new KafkaTransportOptions();
        return new[] { names.InputTopic, names.FilteredTopic, names.SmoothedTopic, names.ForecastTopic, names.AnomalyTopic, names.DeadLetterTopic, names.ChangelogTopic }
            .Select(name => new BrokerTopic(name, partitions, 1) { FromWorkerTopics = true });
    }
}
