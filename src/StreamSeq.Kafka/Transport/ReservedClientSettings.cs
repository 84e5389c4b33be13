using System.Globalization;

namespace StreamSeq.Kafka.Transport;

/// <summary>
/// The librdkafka properties the worker sets itself, which the pass-through <c>StreamSeq:Kafka:Client</c> keys must not
/// contradict. They are applied after the worker's own values, so before this check a <c>group.id</c> there silently
/// replaced <c>StreamSeq:Kafka:GroupId</c> (while the log still named the setting's group), an
/// <c>isolation.level=read_uncommitted</c> or <c>enable.auto.commit=true</c> silently broke exactly-once, and
/// <c>enable.idempotence=false</c>, <c>transactional.id</c> or a <c>transaction.timeout.ms</c> shorter than the message
/// timeout failed only once the loop started, after it had reached the broker, as a fatal error with a stack trace.
/// </summary>
public static class ReservedClientSettings
{
    /// <summary>
    /// The problem of every reserved property among <paramref name="client"/>, as (property, problem); empty when none
    /// contradicts the worker. A property given with the value the worker uses anyway is no problem.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Find(IReadOnlyDictionary<string, string> client, KafkaTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<KeyValuePair<string, string>>();
        foreach (var (key, raw) in client)
        {
            var value = (raw ?? string.Empty).Trim();
            if (Problem(key, value, options) is { } problem)
            {
                problems.Add(new(key, $"{problem}; got '{raw}'."));
            }
        }

        return problems;
    }

    private static string? Problem(string key, string value, KafkaTransportOptions options)
    {
        const string Section = KafkaTransportOptions.Section;
        var transactionMs = (long)options.TransactionTimeout.TotalMilliseconds;
        var sessionMs = (long)options.SessionTimeout.TotalMilliseconds;
        return key switch
        {
            "bootstrap.servers" or "metadata.broker.list" => $"the worker sets {key} from {Section}:BootstrapServers; set that instead",
            "group.id" => $"the worker sets group.id from {Section}:GroupId; set that instead",
            "group.protocol" => $"the worker sets group.protocol from {Section}:GroupProtocol; set that instead",
            "transactional.id" => $"the worker sets transactional.id to <{Section}:GroupId>-<{Section}:InstanceId> (a restarted instance must fence its predecessor); set InstanceId instead",
            "transaction.timeout.ms" => $"the worker sets transaction.timeout.ms from {Section}:TransactionTimeout; set that instead",
            "session.timeout.ms" => $"the worker sets session.timeout.ms from {Section}:SessionTimeout; set that instead",
            "enable.partition.eof" or "consume.result.fields" => $"the worker sets {key} for each of its clients (the changelog restore and the routing header depend on it); leave it out",
            "enable.idempotence" when !IsBoolean(value, true) => "must be true or left out: transactions need the idempotent producer",
            "acks" or "request.required.acks" when value is not ("all" or "-1") => $"must be all (or -1) or left out: transactions need every in-sync replica to acknowledge",
            "isolation.level" when value != "read_committed" => "must be read_committed or left out: the worker reads only committed transactions, so that each record counts exactly once",
            "enable.auto.commit" or "enable.auto.offset.store" when !IsBoolean(value, false) => $"must be false or left out: the next offset of each partition is committed in the changelog with the outputs, never on its own",
            "partition.assignment.strategy" when value != "cooperative-sticky" => "must be cooperative-sticky or left out: the worker hands partitions over incrementally (its restore and standby copies depend on it)",
            "message.timeout.ms" or "delivery.timeout.ms" when !(long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms <= transactionMs)
                => $"must be at most {Section}:TransactionTimeout ({transactionMs} ms): librdkafka refuses a message timeout longer than the transaction timeout",
            "heartbeat.interval.ms" when !(long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms < sessionMs)
                => $"must be shorter than {Section}:SessionTimeout ({sessionMs} ms)",
            _ => null,
        };
    }

    private static bool IsBoolean(string value, bool expected) =>
        value.ToLowerInvariant() is var v && (expected ? v is "true" or "t" or "1" : v is "false" or "f" or "0");
}
