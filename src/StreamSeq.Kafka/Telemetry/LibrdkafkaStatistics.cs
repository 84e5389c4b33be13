using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;

namespace StreamSeq.Kafka.Telemetry;

/// <summary>
/// librdkafka's own statistics (the JSON it emits every <c>statistics.interval.ms</c>) as OpenTelemetry gauges:
/// per-partition consumer lag and fetch queue depth, the producer's queue, and per-broker round-trip times and
/// pending requests.
/// </summary>
/// <remarks>
/// Off the processing loop: the clients' statistics handlers only hand over the JSON string (<see cref="Publish"/>,
/// a dictionary write once per interval, never per record); it is parsed when a metrics reader collects, at most once
/// per new document. A client that is closed is <see cref="Forget"/>-ten so its series end with it.
/// Attribute names follow OpenTelemetry's messaging conventions (<c>messaging.destination.name</c>,
/// <c>messaging.destination.partition.id</c>, <c>server.address</c>, <c>server.port</c>).
/// </remarks>
public sealed class LibrdkafkaStatistics
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, Client> clients = new(StringComparer.Ordinal);

    /// <summary>Creates the gauges on <paramref name="meter"/>.</summary>
    public LibrdkafkaStatistics(Meter meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        meter.CreateObservableGauge("streamseq.kafka.client.consumer.lag", () => Collect(s => s.ConsumerLag), "{record}", "Records of an assigned partition not yet handed to the processing loop: its end (the last stable offset under read_committed) minus the next offset to hand over, from librdkafka's statistics.");
        meter.CreateObservableGauge("streamseq.kafka.client.fetch_queue.count", () => Collect(s => s.FetchQueue), "{record}", "Records prefetched by librdkafka and waiting in a partition's fetch queue.");
        meter.CreateObservableGauge("streamseq.kafka.client.producer_queue.count", () => Collect(s => s.ProducerQueueCount), "{record}", "Records waiting in the producer's queues (not yet acknowledged by a broker).");
        meter.CreateObservableGauge("streamseq.kafka.client.producer_queue.size", () => Collect(s => s.ProducerQueueBytes), "By", "Bytes of the records waiting in the producer's queues.");
        meter.CreateObservableGauge("streamseq.kafka.client.broker.rtt", () => Collect(s => s.RoundTrip), "s", "Broker round-trip time over librdkafka's last statistics window (quantile 0.5 and 0.99), per client and broker.");
        meter.CreateObservableGauge("streamseq.kafka.client.broker.requests.pending", () => Collect(s => s.PendingRequests), "{request}", "Requests to a broker waiting to be sent (stage=send) or for their response (stage=response).");
    }

    /// <summary>Keeps the newest statistics document of a client (called from librdkafka's statistics callback).</summary>
    public void Publish(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var name = ClientName(json);
        if (name is null)
        {
            return;
        }

        lock (gate)
        {
            if (clients.TryGetValue(name, out var client))
            {
                client.Json = json;
            }
            else
            {
                clients[name] = new Client { Json = json };
            }
        }
    }

    /// <summary>Drops a closed client's statistics (<paramref name="name"/> is librdkafka's client name, <c>IClient.Name</c>).</summary>
    public void Forget(string? name)
    {
        if (name is null)
        {
            return;
        }

        lock (gate)
        {
            clients.Remove(name);
        }
    }

    /// <summary>The measurements one statistics document gives.</summary>
    internal static Snapshot Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var snapshot = new Snapshot();
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var type = root.TryGetProperty("type", out var t) ? t.GetString() ?? "unknown" : "unknown";
        var role = new KeyValuePair<string, object?>("kafka.client.type", type);
        if (type == "producer")
        {
            snapshot.ProducerQueueCount.Add(new Measurement<long>(Long(root, "msg_cnt"), role));
            snapshot.ProducerQueueBytes.Add(new Measurement<long>(Long(root, "msg_size"), role));
        }

        if (root.TryGetProperty("brokers", out var brokers) && brokers.ValueKind == JsonValueKind.Object)
        {
            foreach (var broker in brokers.EnumerateObject())
            {
                var b = broker.Value;
                if (b.TryGetProperty("nodeid", out var id) && id.TryGetInt32(out var nodeId) && nodeId < 0)
                {
                    continue; // librdkafka's internal and bootstrap placeholders
                }

                var (host, port) = HostAndPort(b.TryGetProperty("nodename", out var n) ? n.GetString() : null);
                KeyValuePair<string, object?>[] tags = [role, new("server.address", host), new("server.port", port)];
                if (b.TryGetProperty("rtt", out var rtt) && Long(rtt, "cnt") > 0)
                {
                    snapshot.RoundTrip.Add(new Measurement<double>(Long(rtt, "p50") / 1e6, [.. tags, new("quantile", "0.5")]));
                    snapshot.RoundTrip.Add(new Measurement<double>(Long(rtt, "p99") / 1e6, [.. tags, new("quantile", "0.99")]));
                }

                snapshot.PendingRequests.Add(new Measurement<long>(Long(b, "outbuf_cnt"), [.. tags, new("stage", "send")]));
                snapshot.PendingRequests.Add(new Measurement<long>(Long(b, "waitresp_cnt"), [.. tags, new("stage", "response")]));
            }
        }

        if (type == "consumer" && root.TryGetProperty("topics", out var topics) && topics.ValueKind == JsonValueKind.Object)
        {
            foreach (var topic in topics.EnumerateObject())
            {
                if (!topic.Value.TryGetProperty("partitions", out var partitions) || partitions.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                foreach (var partition in partitions.EnumerateObject())
                {
                    var p = partition.Value;
                    var number = Long(p, "partition");
                    var next = Long(p, "app_offset");
                    if (number < 0 || next < 0)
                    {
                        continue; // the unassigned-partition placeholder, or a partition not consumed yet
                    }

                    KeyValuePair<string, object?>[] tags = [new("messaging.destination.name", topic.Name), new("messaging.destination.partition.id", number.ToString(CultureInfo.InvariantCulture))];
                    var end = Long(p, "ls_offset") is >= 0 and var stable ? stable : Long(p, "hi_offset");
                    if (end >= 0)
                    {
                        snapshot.ConsumerLag.Add(new Measurement<long>(Math.Max(0, end - next), tags));
                    }

                    snapshot.FetchQueue.Add(new Measurement<long>(Long(p, "fetchq_cnt"), tags));
                }
            }
        }

        return snapshot;
    }

    private static string? ClientName(string json)
    {
        // The name is the document's first field; reading it needs no full parse on the client's thread.
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(json.Length > 512 ? json[..512] : json), isFinalBlock: false, state: default);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("name"u8) && reader.Read())
                {
                    return reader.GetString();
                }
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }

    private static long Long(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.TryGetInt64(out var number) ? number : -1;

    private static (string? Host, int? Port) HostAndPort(string? nodeName)
    {
        if (string.IsNullOrEmpty(nodeName))
        {
            return (null, null);
        }

        var colon = nodeName.LastIndexOf(':');
        return colon > 0 && int.TryParse(nodeName.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            ? (nodeName[..colon], port)
            : (nodeName, null);
    }

    private List<Measurement<T>> Collect<T>(Func<Snapshot, List<Measurement<T>>> select)
        where T : struct
    {
        var result = new List<Measurement<T>>();
        lock (gate)
        {
            foreach (var client in clients.Values)
            {
                if (!ReferenceEquals(client.ParsedFrom, client.Json))
                {
                    try
                    {
                        client.Parsed = Parse(client.Json);
                    }
                    catch (JsonException)
                    {
                        client.Parsed = new Snapshot();
                    }

                    client.ParsedFrom = client.Json;
                }

                result.AddRange(select(client.Parsed!));
            }
        }

        return result;
    }

    /// <summary>The measurements of one statistics document, per gauge.</summary>
    internal sealed class Snapshot
    {
        /// <summary>Per-partition lag of the consumer.</summary>
        public List<Measurement<long>> ConsumerLag { get; } = [];

        /// <summary>Per-partition fetch queue depth.</summary>
        public List<Measurement<long>> FetchQueue { get; } = [];

        /// <summary>Producer queue, records.</summary>
        public List<Measurement<long>> ProducerQueueCount { get; } = [];

        /// <summary>Producer queue, bytes.</summary>
        public List<Measurement<long>> ProducerQueueBytes { get; } = [];

        /// <summary>Broker round-trip times in seconds.</summary>
        public List<Measurement<double>> RoundTrip { get; } = [];

        /// <summary>Pending requests per broker.</summary>
        public List<Measurement<long>> PendingRequests { get; } = [];
    }

    private sealed class Client
    {
        public required string Json { get; set; }

        public string? ParsedFrom { get; set; }

        public Snapshot? Parsed { get; set; }
    }
}
