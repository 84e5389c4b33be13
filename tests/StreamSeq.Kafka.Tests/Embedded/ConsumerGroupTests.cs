using System.Globalization;
using Confluent.Kafka;
using static StreamSeq.Kafka.Tests.Embedded.EmbeddedKafkaTestKit;

namespace StreamSeq.Kafka.Tests.Embedded;

/// <summary>
/// Incremental rebalancing with the worker's input-consumer settings, for both group protocols. Classic groups use a
/// 3 s session timeout here because the mock completes each classic rebalance phase only after about
/// session.timeout.ms - 1 s (see docs/kafka-embedded.md); KIP-848 groups follow the broker heartbeat interval.
/// </summary>
public sealed class ConsumerGroupTests
{
    private const int PartitionCount = 4;

    [Theory]
    [InlineData(GroupProtocol.Classic)]
    [InlineData(GroupProtocol.Consumer)]
    public void Subscribe_SecondMemberJoins_HalfThePartitionsMoveAndTheRestStayPut(GroupProtocol protocol)
    {
        using var cluster = StartCluster();
        var topic = Unique("in");
        var group = Unique("group");
        cluster.CreateTopic(topic, PartitionCount);
        using var first = new Member("first", cluster.BootstrapServers, group, protocol);
        first.Consumer.Subscribe(topic);
        PumpUntil(() => first.Owned.Count == PartitionCount, () => first.Consumer.Consume(20), "the first member to own every partition");
        var before = first.Owned.ToHashSet();
        first.Revoked.Clear();

        using var second = new Member("second", cluster.BootstrapServers, group, protocol);
        second.Consumer.Subscribe(topic);
        PumpUntil(
            () => first.Owned.Count == PartitionCount / 2 && second.Owned.Count == PartitionCount / 2,
            () =>
            {
                first.Consumer.Consume(20);
                second.Consumer.Consume(20);
            },
            "the partitions to split between two members");

        Assert.Empty(first.Owned.Intersect(second.Owned));
        Assert.Equal(before, first.Owned.Union(second.Owned).ToHashSet());

        // Incremental: the first member gave up exactly the partitions the second took, never its whole assignment.
        Assert.Equal(second.Owned.Order(), first.Revoked.Order());
        Assert.Equal(0, first.LostCount);
    }

    [Theory]
    [InlineData(GroupProtocol.Classic)]
    [InlineData(GroupProtocol.Consumer)]
    public void Close_OneOfTwoMembersLeaves_TheOtherTakesOverFromTheCommittedOffsets(GroupProtocol protocol)
    {
        const int RecordsPerPartition = 3;
        using var cluster = StartCluster();
        var topic = Unique("in");
        var group = Unique("group");
        cluster.CreateTopic(topic, PartitionCount);
        using var stayer = new Member("stayer", cluster.BootstrapServers, group, protocol);
        using var leaver = new Member("leaver", cluster.BootstrapServers, group, protocol);
        stayer.Consumer.Subscribe(topic);
        leaver.Consumer.Subscribe(topic);
        var readByStayer = new List<string>();
        var readByLeaver = new List<string>();
        var pendingCommits = new Dictionary<TopicPartition, TopicPartitionOffset>();

        // The leaver commits only up to its second record per partition, as if it stopped before finishing the
        // third. A classic group refuses commits while it rebalances (RebalanceInProgress), so commits stay pending
        // and are retried, as the worker's lag-monitoring commits must be.
        void PumpBoth()
        {
            if (stayer.Consumer.Consume(10) is { } s)
            {
                readByStayer.Add(s.Message.Value);
            }

            if (leaver.Consumer.Consume(10) is { } l)
            {
                readByLeaver.Add(l.Message.Value);
                if (l.Offset.Value < RecordsPerPartition - 1)
                {
                    pendingCommits[l.TopicPartition] = new TopicPartitionOffset(l.TopicPartition, l.Offset + 1);
                }
            }

            if (pendingCommits.Count > 0)
            {
                try
                {
                    leaver.Consumer.Commit(pendingCommits.Values);
                    pendingCommits.Clear();
                }
                catch (KafkaException ex) when (ex.Error.Code == ErrorCode.RebalanceInProgress)
                {
                    // retried on the next pump
                }
            }
        }

        PumpUntil(
            () => stayer.Owned.Count == PartitionCount / 2 && leaver.Owned.Count == PartitionCount / 2,
            PumpBoth,
            "two members to split the partitions");
        var leaverPartitions = leaver.Owned;
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            for (var p = 0; p < PartitionCount; p++)
            {
                for (var i = 0; i < RecordsPerPartition; i++)
                {
                    producer.Produce(new TopicPartition(topic, p), new Message<string, string> { Key = $"s{p}", Value = $"{p}:{i}" });
                }
            }

            Assert.Equal(0, producer.Flush(Patience));
        }

        PumpUntil(
            () => readByStayer.Count + readByLeaver.Count == PartitionCount * RecordsPerPartition && pendingCommits.Count == 0,
            PumpBoth,
            "both members to read their records and the leaver to commit");
        Assert.All(readByLeaver, v => Assert.Contains(int.Parse(v.Split(':')[0], CultureInfo.InvariantCulture), leaverPartitions));
        leaver.Leave();
        var readBeforeTakeOver = readByStayer.Count;

        var expectedRedelivery = leaverPartitions.Select(p => $"{p}:{RecordsPerPartition - 1}").ToHashSet();
        PumpUntil(
            () => stayer.Owned.Count == PartitionCount && readByStayer.Count - readBeforeTakeOver == expectedRedelivery.Count,
            () =>
            {
                if (stayer.Consumer.Consume(10) is { } s)
                {
                    readByStayer.Add(s.Message.Value);
                }
            },
            "the stayer to take over and read the leaver's uncommitted records");

        Assert.Equal(expectedRedelivery, readByStayer.Skip(readBeforeTakeOver).ToHashSet());
        Assert.Equal(0, stayer.LostCount);
    }

    /// <summary>A group member built from the worker's input-consumer settings, tracking what it owns.</summary>
    private sealed class Member : IDisposable
    {
        private readonly Lock gate = new();
        private readonly HashSet<int> owned = [];
        private readonly List<int> revoked = [];
        private int lost;
        private int disposed;
        private int closed;

        public Member(string name, string bootstrapServers, string group, GroupProtocol protocol)
        {
            var config = KafkaClientDefaults.InputConsumer(bootstrapServers, group, protocol);
            config.ClientId = name;
            if (protocol == GroupProtocol.Classic)
            {
                config.SessionTimeoutMs = 3000;
                config.HeartbeatIntervalMs = 250;
            }

            Consumer = new ConsumerBuilder<string, string>(config)
                .SetPartitionsAssignedHandler((_, partitions) => Update(partitions, add: true))
                .SetPartitionsRevokedHandler((_, partitions) => Update(partitions.Select(p => p.TopicPartition), add: false))
                .SetPartitionsLostHandler((_, partitions) =>
                {
                    Interlocked.Increment(ref lost);
                    Update(partitions.Select(p => p.TopicPartition), add: false);
                })
                .SetLogHandler((_, _) => { })
                .Build();
        }

        public IConsumer<string, string> Consumer { get; }

        public HashSet<int> Owned
        {
            get
            {
                lock (gate)
                {
                    return [.. owned];
                }
            }
        }

        public List<int> Revoked
        {
            get
            {
                lock (gate)
                {
                    return revoked;
                }
            }
        }

        public int LostCount => Volatile.Read(ref lost);

        /// <summary>Leaves the group cleanly; Close serves the pending rebalance callbacks.</summary>
        public void Leave()
        {
            if (Interlocked.Exchange(ref closed, 1) == 0)
            {
                Consumer.Close();
            }
        }

        /// <summary>
        /// Leaves (if still a member) and releases the consumer. A member whose last incremental assignment was never
        /// served can block in close on the mock's classic protocol, so a close still running after a few seconds is
        /// abandoned rather than hanging the test run.
        /// </summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) != 0)
            {
                return;
            }

            var close = Task.Run(() =>
            {
                Leave();
                Consumer.Dispose();
            });
            close.Wait(TimeSpan.FromSeconds(10));
        }

        private void Update(IEnumerable<TopicPartition> partitions, bool add)
        {
            lock (gate)
            {
                foreach (var partition in partitions)
                {
                    if (add)
                    {
                        owned.Add(partition.Partition.Value);
                    }
                    else
                    {
                        owned.Remove(partition.Partition.Value);
                        revoked.Add(partition.Partition.Value);
                    }
                }
            }
        }
    }
}
