using System.Globalization;

namespace StreamSeq.Kafka;

/// <summary>
/// The form of a broker list as librdkafka reads it (<c>host[:port][,host[:port]...]</c>, each entry optionally led by a
/// listener protocol such as <c>SASL_SSL://</c>), checked before any client starts: librdkafka takes a list it cannot
/// use (<c>kafka:notaport</c>, <c>http://kafka:9092</c>, <c>kafka:9092;kafka2:9092</c>) and only ever reports a broker
/// that cannot be reached, so a typo looked like a broker that is down and the worker waited for it forever.
/// </summary>
public static class KafkaBootstrapServers
{
    /// <summary>What a broker list looks like, for messages.</summary>
    public const string Expected = "host:port[,host:port...] such as kafka-0:9092,kafka-1:9092";

    private static readonly string[] Protocols = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];

    /// <summary>Null when <paramref name="list"/> is a broker list librdkafka can use; otherwise what is wrong with it.</summary>
    /// <remarks>An empty list is not judged here (whether one is required depends on the broker choice).</remarks>
    public static string? Problem(string? list)
    {
        if (string.IsNullOrWhiteSpace(list))
        {
            return null;
        }

        var entries = list.Split(',', StringSplitOptions.TrimEntries);
        if (entries.All(e => e.Length == 0))
        {
            return $"'{list}' names no broker; expected {Expected}.";
        }

        foreach (var entry in entries.Where(e => e.Length > 0))
        {
            if (EntryProblem(entry) is { } problem)
            {
                return $"'{entry}' {problem}; expected {Expected}.";
            }
        }

        return null;
    }

    private static string? EntryProblem(string entry)
    {
        var rest = entry;
        var scheme = entry.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            var protocol = entry[..scheme];
            if (!Protocols.Contains(protocol, StringComparer.OrdinalIgnoreCase))
            {
                return $"starts with '{protocol}://', which is not a Kafka listener protocol ({string.Join(", ", Protocols)})";
            }

            rest = entry[(scheme + 3)..];
        }

        if (rest.Any(c => char.IsWhiteSpace(c) || c == ';'))
        {
            return "holds a space or ';': separate brokers with ','";
        }

        string host;
        string? port;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return "has an IPv6 address without its closing ']'";
            }

            host = rest[1..close];
            var after = rest[(close + 1)..];
            if (after.Length > 0 && !after.StartsWith(':'))
            {
                return $"has '{after}' after the IPv6 address where ':port' belongs";
            }

            port = after.Length == 0 ? null : after[1..];
            if (Uri.CheckHostName(host) != UriHostNameType.IPv6)
            {
                return $"has '[{host}]', which is not an IPv6 address";
            }
        }
        else
        {
            if (rest.Count(c => c == ':') > 1)
            {
                return "has more than one ':' (write an IPv6 address in brackets: [::1]:9092)";
            }

            var colon = rest.IndexOf(':', StringComparison.Ordinal);
            host = colon < 0 ? rest : rest[..colon];
            port = colon < 0 ? null : rest[(colon + 1)..];
            if (host.Length == 0)
            {
                return "has no host";
            }

            if (Uri.CheckHostName(host) is not (UriHostNameType.Dns or UriHostNameType.IPv4))
            {
                return $"has '{host}', which is not a host name or address";
            }
        }

        if (port is not null && !(int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is >= 1 and <= 65535))
        {
            return $"has the port '{port}', which is not a number from 1 to 65535";
        }

        return null;
    }
}
