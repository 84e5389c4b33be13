using System.Diagnostics.Metrics;
using StreamSeq.Kafka.Telemetry;

namespace StreamSeq.Kafka.Tests.Telemetry;

/// <summary>
/// librdkafka's statistics document (fields as STATISTICS.md describes them) turned into gauges: what each field
/// becomes, what is left out, and that only the newest document of each live client counts.
/// </summary>
public sealed class LibrdkafkaStatisticsTests
{
    private const string Consumer = """
        {"name":"rdkafka#consumer-2","client_id":"rdkafka","type":"consumer","ts":1,"msg_cnt":0,"msg_size":0,
         "brokers":{
           "127.0.0.1:9092/1":{"name":"127.0.0.1:9092/1","nodeid":1,"nodename":"127.0.0.1:9092","outbuf_cnt":2,"waitresp_cnt":1,
             "rtt":{"min":100,"max":9000,"avg":1500,"cnt":12,"p50":1200,"p99":8500}},
           ":0/internal":{"name":":0/internal","nodeid":-1,"nodename":"","outbuf_cnt":0,"waitresp_cnt":0,"rtt":{"cnt":0}},
           "kafka-2.example:9093/2":{"name":"kafka-2.example:9093/2","nodeid":2,"nodename":"kafka-2.example:9093","outbuf_cnt":0,"waitresp_cnt":0,"rtt":{"cnt":0,"p50":0,"p99":0}}},
         "topics":{"readings":{"topic":"readings","partitions":{
           "0":{"partition":0,"app_offset":10,"ls_offset":15,"hi_offset":20,"fetchq_cnt":3},
           "1":{"partition":1,"app_offset":-1001,"ls_offset":7,"hi_offset":7,"fetchq_cnt":0},
           "2":{"partition":2,"app_offset":40,"ls_offset":-1001,"hi_offset":42,"fetchq_cnt":2},
           "-1":{"partition":-1,"app_offset":-1001,"ls_offset":-1001,"hi_offset":-1001,"fetchq_cnt":0}}}}}
        """;

    private const string Producer = """
        {"name":"rdkafka#producer-1","client_id":"rdkafka","type":"producer","msg_cnt":17,"msg_size":4096,
         "brokers":{"127.0.0.1:9092/1":{"nodeid":1,"nodename":"127.0.0.1:9092","outbuf_cnt":0,"waitresp_cnt":3,"rtt":{"cnt":5,"p50":250,"p99":1000}}},
         "topics":{"out":{"topic":"out","partitions":{"0":{"partition":0,"app_offset":-1001,"ls_offset":5,"hi_offset":5,"fetchq_cnt":0}}}}}
        """;

    [Fact]
    public void Parse_ConsumerDocument_LagPerConsumedPartitionFromTheStableEndAndRoundTripsInSeconds()
    {
        var s = LibrdkafkaStatistics.Parse(Consumer);

        // Partition 0: last stable offset 15 - next offset 10; partition 2 has no stable offset, so its high watermark;
        // partition 1 was never consumed and -1 is librdkafka's placeholder.
        Assert.Equal([("0", 5L), ("2", 2L)], s.ConsumerLag.Select(m => (Tag(m.Tags, "messaging.destination.partition.id"), m.Value)));
        Assert.All(s.ConsumerLag, m => Assert.Equal("readings", Tag(m.Tags, "messaging.destination.name")));
        Assert.Equal([3L, 2L], s.FetchQueue.Select(m => m.Value));

        // Only the broker with round trips measured; the internal broker is left out; microseconds become seconds.
        Assert.Equal([("0.5", 0.0012), ("0.99", 0.0085)], s.RoundTrip.Select(m => (Tag(m.Tags, "quantile"), m.Value)));
        Assert.All(s.RoundTrip, m => Assert.Equal(("127.0.0.1", (object?)9092), (Tag(m.Tags, "server.address"), m.Tags.ToArray().Single(t => t.Key == "server.port").Value)));
        Assert.Equal([("send", 2L), ("response", 1L), ("send", 0L), ("response", 0L)], s.PendingRequests.Select(m => (Tag(m.Tags, "stage"), m.Value)));
        Assert.Equal("kafka-2.example", Tag(s.PendingRequests[^1].Tags, "server.address"));
        Assert.Empty(s.ProducerQueueCount);
    }

    [Fact]
    public void Parse_ProducerDocument_QueueInRecordsAndBytesAndNoPartitionLag()
    {
        var s = LibrdkafkaStatistics.Parse(Producer);

        Assert.Equal(17, Assert.Single(s.ProducerQueueCount).Value);
        Assert.Equal(4096, Assert.Single(s.ProducerQueueBytes).Value);
        Assert.Equal("producer", Tag(s.ProducerQueueCount[0].Tags, "kafka.client.type"));
        Assert.Empty(s.ConsumerLag);
        Assert.Equal([0.00025, 0.001], s.RoundTrip.Select(m => m.Value));
    }

    [Fact]
    public void Collect_NewestDocumentOfEachLiveClient_UntilTheClientIsForgotten()
    {
        using var meter = new Meter("test.librdkafka." + Guid.NewGuid().ToString("N"));
        var statistics = new LibrdkafkaStatistics(meter);
        var producerQueue = new List<long>();
        using var listener = new MeterListener { InstrumentPublished = (i, l) => { if (i.Meter == meter) { l.EnableMeasurementEvents(i); } } };
        listener.SetMeasurementEventCallback<long>((i, value, _, _) =>
        {
            if (i.Name == "streamseq.kafka.client.producer_queue.count")
            {
                producerQueue.Add(value);
            }
        });
        listener.Start();

        statistics.Publish(Producer);
        statistics.Publish(Producer.Replace("\"msg_cnt\":17", "\"msg_cnt\":3", StringComparison.Ordinal));
        statistics.Publish(Consumer);
        listener.RecordObservableInstruments();
        Assert.Equal([3L], producerQueue);

        producerQueue.Clear();
        statistics.Forget("rdkafka#producer-1");
        statistics.Publish("not json");
        listener.RecordObservableInstruments();
        Assert.Empty(producerQueue);
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == key)
            {
                return tag.Value?.ToString();
            }
        }

        return null;
    }
}
