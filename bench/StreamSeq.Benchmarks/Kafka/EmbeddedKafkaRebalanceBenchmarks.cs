using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Confluent.Kafka;
using StreamSeq.Kafka;
using StreamSeq.Kafka.Embedded;

namespace StreamSeq.Benchmarks.Kafka;

/// <summary>
/// Time for a second member to join a group of one on a 4-partition topic until both own two partitions, with the
/// worker's input-consumer settings, per group protocol and timing setting. On the mock a classic rebalance phase
/// lasts about session.timeout.ms - 1 s and cooperative-sticky needs two phases; a KIP-848 group moves partitions
/// on the next broker heartbeat.
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class EmbeddedKafkaRebalanceBenchmarks
{
    private EmbeddedKafkaCluster cluster = null!;
    private Member first = null!;
    private Member second = null!;
    private string topic = null!;
    private string group = null!;

    /// <summary>
    /// "classic/SESSION/HEARTBEAT" (client session.timeout.ms and heartbeat.interval.ms) or
    /// "consumer/HEARTBEAT" (broker group.consumer.heartbeat.interval.ms).
    /// </summary>
    [Params("classic/3000/250", "classic/6000/500", "consumer/250", "consumer/1000")]
    public string Setting { get; set; } = "consumer/250";

    [IterationSetup]
    public void Setup()
    {
        var parts = Setting.Split('/');
        cluster = EmbeddedKafkaCluster.Start();
        cluster.SetInitialRebalanceDelay(TimeSpan.Zero);
        if (parts[0] == "consumer")
        {
            cluster.SetConsumerGroupHeartbeatInterval(TimeSpan.FromMilliseconds(int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture)));
        }

        topic = "in-" + Guid.NewGuid().ToString("N");
        group = "group-" + Guid.NewGuid().ToString("N");
        cluster.CreateTopic(topic, 4);
        first = new Member(cluster.BootstrapServers, group, parts);
        first.Consumer.Subscribe(topic);
        while (first.Owned < 4)
        {
            first.Consumer.Consume(10);
        }

        second = new Member(cluster.BootstrapServers, group, parts);
    }

    [IterationCleanup]
    public void Cleanup()
    {
        second.Consumer.Close();
        second.Consumer.Dispose();
        first.Consumer.Close();
        first.Consumer.Dispose();
        cluster.Dispose();
    }

    /// <summary>From the second member's Subscribe until both members own two partitions.</summary>
    [Benchmark]
    public void SecondMemberJoins()
    {
        second.Consumer.Subscribe(topic);
        while (first.Owned != 2 || second.Owned != 2)
        {
            first.Consumer.Consume(5);
            second.Consumer.Consume(5);
        }

        // Serve the callbacks still queued so that Close in the cleanup does not wait on them.
        for (var i = 0; i < 20; i++)
        {
            first.Consumer.Consume(5);
            second.Consumer.Consume(5);
        }
    }

    private sealed class Member
    {
        private int owned;

        public Member(string bootstrapServers, string groupId, string[] setting)
        {
            var protocol = setting[0] == "consumer" ? GroupProtocol.Consumer : GroupProtocol.Classic;
            var config = KafkaClientDefaults.InputConsumer(bootstrapServers, groupId, protocol);
            if (protocol == GroupProtocol.Classic)
            {
                config.SessionTimeoutMs = int.Parse(setting[1], System.Globalization.CultureInfo.InvariantCulture);
                config.HeartbeatIntervalMs = int.Parse(setting[2], System.Globalization.CultureInfo.InvariantCulture);
            }

            Consumer = new ConsumerBuilder<Ignore, Ignore>(config)
                .SetPartitionsAssignedHandler((_, partitions) => Interlocked.Add(ref owned, partitions.Count))
                .SetPartitionsRevokedHandler((_, partitions) => Interlocked.Add(ref owned, -partitions.Count))
                .SetLogHandler((_, _) => { })
                .Build();
        }

        public IConsumer<Ignore, Ignore> Consumer { get; }

        public int Owned => Volatile.Read(ref owned);
    }
}
