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
/// <remarks>
/// The command line's Kafka clients (<c>streamseq read</c>, <c>streamseq simulate</c>) pass <c>--client</c> properties the
/// same way and share the rules where the intent is the same (committed reads, idempotent writes, a broker list given
/// once): <see cref="Find(IEnumerable{KeyValuePair{string, string}}, ClientRole)"/>.
/// </remarks>
public static class ReservedClientSettings
{
    /// <summary>Which command-line client the <c>--client</c> properties are for.</summary>
    public enum ClientRole
    {
        /// <summary><c>streamseq read</c>: a consumer that assigns every partition itself and never commits.</summary>
        Reader,

        /// <summary><c>streamseq simulate</c>: an idempotent producer without transactions.</summary>
        SimulatedProducer,
    }

    /// <summary>
    /// The problem of every property among <paramref name="client"/> that the command of <paramref name="role"/> sets
    /// itself or depends on, as (property, problem); empty when none contradicts it. A property given with the value the
    /// command uses anyway is no problem.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Find(IEnumerable<KeyValuePair<string, string>> client, ClientRole role) =>
        Find(client, role == ClientRole.Reader ? ReaderProblem : ProducerProblem);

    /// <summary>
    /// The problem of every reserved property among <paramref name="client"/>, as (property, problem); empty when none
    /// contradicts the worker. A property given with the value the worker uses anyway is no problem.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Find(IReadOnlyDictionary<string, string> client, KafkaTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Find(client, (key, value) => Problem(key, value, options));
    }

    /// <summary>Each property of <paramref name="client"/> that <paramref name="problem"/> (key, trimmed value) objects to.</summary>
    private static List<KeyValuePair<string, string>> Find(IEnumerable<KeyValuePair<string, string>> client, Func<string, string, string?> problem)
    {
        ArgumentNullException.ThrowIfNull(client);
        var problems = new List<KeyValuePair<string, string>>();
        foreach (var (key, raw) in client)
        {
            if (problem(key, (raw ?? string.Empty).Trim()) is { } found)
            {
                problems.Add(new(key, $"{found}; got '{raw}'."));
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
            "isolation.level" => CommittedReadProblem(key, value, "the worker reads only committed transactions, so that each record counts exactly once"),
            "enable.auto.commit" or "enable.auto.offset.store" => NoCommitProblem(key, value, "the next offset of each partition is committed in the changelog with the outputs, never on its own"),
            "partition.assignment.strategy" when value != "cooperative-sticky" => "must be cooperative-sticky or left out: the worker hands partitions over incrementally (its restore and standby copies depend on it)",
            "message.timeout.ms" or "delivery.timeout.ms" when !(long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms <= transactionMs)
                => $"must be at most {Section}:TransactionTimeout ({transactionMs} ms): librdkafka refuses a message timeout longer than the transaction timeout",
            "heartbeat.interval.ms" when !(long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms < sessionMs)
                => $"must be shorter than {Section}:SessionTimeout ({sessionMs} ms)",
            _ => null,
        };
    }

    private static string? ReaderProblem(string key, string value) => key switch
    {
        "bootstrap.servers" or "metadata.broker.list" => $"read sets {key} from --bootstrap-servers; give that instead",
        "group.id" or "group.instance.id" or "group.protocol" => "read assigns every partition itself and never joins or commits to a consumer group; leave it out",
        "auto.offset.reset" when value != "earliest" => "read starts at the oldest record with --from-beginning and at the end without it; leave it out",
        "enable.partition.eof" when !IsBoolean(value, true) => "must be true or left out: a read without --follow ends at the end of every partition, which it learns from the end-of-partition events",
        "consume.result.fields" when value != "all" => "read prints every field (the marker rule needs the headers); leave it out",
        _ => CommittedReadProblem(key, value, "read prints committed records only (--isolation chooses how)")
            ?? NoCommitProblem(key, value, "read never commits offsets (it would move a group's position)"),
    };

    private static string? ProducerProblem(string key, string value) => key switch
    {
        "bootstrap.servers" or "metadata.broker.list" => $"simulate sets {key} from --bootstrap-servers; give that instead",
        "transactional.id" => "simulate produces without transactions (readings are written once each by the idempotent producer); leave it out",
        _ => IdempotenceProblem(key, value, "simulate writes each reading exactly once per partition"),
    };

    /// <summary>The rule of a client that reads only committed records: <c>isolation.level</c>.</summary>
    private static string? CommittedReadProblem(string key, string value, string why) =>
        key == "isolation.level" && value != "read_committed" ? $"must be read_committed or left out: {why}" : null;

    /// <summary>The rule of a client whose offsets are never committed on their own.</summary>
    private static string? NoCommitProblem(string key, string value, string why) =>
        key is "enable.auto.commit" or "enable.auto.offset.store" && !IsBoolean(value, false) ? $"must be false or left out: {why}" : null;

    /// <summary>The rules of an idempotent producer: <c>enable.idempotence</c> and <c>acks</c>.</summary>
    private static string? IdempotenceProblem(string key, string value, string why) => key switch
    {
        "enable.idempotence" when !IsBoolean(value, true) => $"must be true or left out: {why}, which needs the idempotent producer",
        "acks" or "request.required.acks" when value is not ("all" or "-1") => $"must be all (or -1) or left out: {why}, which needs every in-sync replica to acknowledge",
        _ => null,
    };

    private static bool IsBoolean(string value, bool expected) =>
        value.ToLowerInvariant() is var v && (expected ? v is "true" or "t" or "1" : v is "false" or "f" or "0");
}
