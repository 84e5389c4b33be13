namespace StreamSeq.Worker.Configuration;

/// <summary>
/// The librdkafka properties under <c>StreamSeq:Kafka:Client</c> that name a file (CA bundle, client certificate and
/// key, keystore, revocation list), checked for a file that is not there when the connection uses TLS. librdkafka only
/// says <c>ssl.ca.location failed: error:05880020:x509 certificate routines::BIO lib</c> for a missing file, which is
/// what a pod shows when its TLS Secret lacks the key the chart mounts (<c>kafka.tls.caKey</c>).
/// </summary>
public static class ClientFileSettings
{
    /// <summary>The properties that name a file or, for <c>ssl.ca.location</c>, a folder of certificates.</summary>
    public static IReadOnlyList<string> FileProperties { get; } =
        ["ssl.ca.location", "ssl.certificate.location", "ssl.key.location", "ssl.keystore.location", "ssl.crl.location"];

    /// <summary>Each file property naming a path that does not exist, with why, when <c>security.protocol</c> is SSL or
    /// SASL_SSL (as the other checks of the pass-through properties report: property, then problem).</summary>
    /// <param name="client">The pass-through properties.</param>
    public static IReadOnlyList<KeyValuePair<string, string>> FindMissing(IReadOnlyDictionary<string, string> client)
    {
        ArgumentNullException.ThrowIfNull(client);
        var protocol = client.TryGetValue("security.protocol", out var p) ? p.Trim() : string.Empty;
        if (!protocol.EndsWith("ssl", StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }

        var problems = new List<KeyValuePair<string, string>>();
        foreach (var property in FileProperties)
        {
            if (!client.TryGetValue(property, out var path) || string.IsNullOrWhiteSpace(path))
            {
                continue;
            }

            // ssl.ca.location=probe asks librdkafka to find the system's CA bundle; a folder of CA certificates is valid.
            if ((property == "ssl.ca.location" && string.Equals(path.Trim(), "probe", StringComparison.OrdinalIgnoreCase)) || File.Exists(path) || Directory.Exists(path))
            {
                continue;
            }

            problems.Add(new(property, $"'{path}' does not exist (security.protocol is {protocol}; when it comes from a mounted Secret, the Secret has no key of that file name)."));
        }

        return problems;
    }
}
