using System.CommandLine;
using StreamSeq.Kafka;
using StreamSeq.Kafka.Transport;

namespace StreamSeq.Cli.Commands;

/// <summary>
/// The repeatable <c>--client key=value</c> option of the Kafka commands, checked while the command line is parsed: an
/// entry that is not key=value, a property given twice, one librdkafka does not know or whose value it refuses, and one
/// the command sets itself or depends on (<see cref="ReservedClientSettings"/>, the rules the worker applies to its own
/// pass-through properties) are each a usage error naming the entry. Before, a malformed entry or unknown property was
/// an environment error or a crash reported as a bug, and a reserved one silently changed what the command did:
/// <c>bootstrap.servers</c> sent the readings elsewhere than <c>--bootstrap-servers</c> said,
/// <c>isolation.level=read_uncommitted</c> printed aborted records, <c>enable.partition.eof=false</c> made a read that
/// should end at the end of the topic wait forever, <c>enable.idempotence=false</c> allowed duplicates.
/// </summary>
internal static class ClientOption
{
    /// <summary>The option, checked for the client of <paramref name="role"/>.</summary>
    public static Option<string[]> Create(string description, ReservedClientSettings.ClientRole role)
    {
        var option = new Option<string[]>("--client") { Description = description, AllowMultipleArgumentsPerToken = false };
        option.Validators.Add(result =>
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var token in result.Tokens)
            {
                if (Problem(token.Value, seen, role) is { } problem)
                {
                    result.AddError($"--client '{token.Value}': {problem}");
                    return;
                }
            }
        });
        return option;
    }

    /// <summary>The key=value pairs of the (already checked) entries, in the order given.</summary>
    public static List<KeyValuePair<string, string>> Parse(string[]? entries) =>
        [.. (entries ?? []).Select(e => Split(e) ?? throw new UsageException($"--client '{e}': expected key=value."))];

    private static string? Problem(string entry, HashSet<string> seen, ReservedClientSettings.ClientRole role)
    {
        if (Split(entry) is not { } setting)
        {
            return "expected key=value, a librdkafka property and its value (for example security.protocol=SASL_SSL).";
        }

        if (!seen.Add(setting.Key))
        {
            return $"{setting.Key} is given twice; give each property once.";
        }

        if (KafkaClientSettings.FindInvalid([setting]) is [var invalid, ..])
        {
            return $"{invalid.Value.TrimEnd('.')}.";
        }

        return ReservedClientSettings.Find([setting], role) is [var reserved, ..] ? reserved.Value : null;
    }

    private static KeyValuePair<string, string>? Split(string entry)
    {
        var at = entry.IndexOf('=', StringComparison.Ordinal);
        var key = at < 0 ? string.Empty : entry[..at].Trim();
        return key.Length == 0 ? null : new(key, entry[(at + 1)..]);
    }
}
