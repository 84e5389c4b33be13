namespace StreamSeq.Worker.Configuration;

/// <summary>
/// The worker's command line: settings only, written <c>--Key=value</c> (or <c>--Key value</c>, <c>/Key=value</c>,
/// <c>Key=value</c>) as ASP.NET Core reads them. The host's reader silently skips what is not in those forms, so a
/// stray word, a single-dash option, a key whose value was forgotten or a key given twice started the worker with
/// settings other than the ones written; they are problems here, each naming the argument.
/// </summary>
public static class CommandLineArguments
{
    /// <summary>What <c>--help</c> prints.</summary>
    public const string Usage = """
        StreamSeq worker: keyed state-space filtering of Kafka sensor streams, exactly once.

        Usage: StreamSeq.Worker [--Section:Key=value ...]
               StreamSeq.Worker probe [url]      ask a worker's /health/ready (the container's health check)

        Every setting can be given in appsettings.json, as an environment variable (StreamSeq__Kafka__BootstrapServers=
        kafka:9092) or on the command line (--StreamSeq:Kafka:BootstrapServers=kafka:9092); docs/worker.md,
        "Configuration", lists them. Without settings the worker runs the embedded broker and the sensor simulator (the
        demo, on http://localhost:8080); with StreamSeq:Kafka:BootstrapServers it joins that cluster.

        Exit codes: 0 stopped; 1 the processing loop stopped on a fatal error (restart it); 2 the settings cannot start it;
        130, 143 or 131 a second Ctrl+C (SIGINT), SIGTERM or SIGQUIT, more than 1 s after the first, abandoned the
        graceful stop (its open transaction is not committed; the partitions' next owner processes its records again).
        """;

    /// <summary>True when the arguments ask for the usage text instead of a start.</summary>
    public static bool AsksForHelp(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        return args is ["--help" or "-h" or "-?" or "/?" or "help"];
    }

    /// <summary>The arguments the host would skip or override, one problem each; empty when every argument is a setting.</summary>
    public static IReadOnlyList<string> FindProblems(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var problems = new List<string>();
        var given = new Dictionary<string, (string Argument, string Value)>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Count; i++)
        {
            var argument = args[i];
            if (argument is "--help" or "-h" or "-?" or "/?")
            {
                // Read as a setting, '--help' among others was told to be "--help=value".
                problems.Add($"'{argument}': the usage is printed only when it is the only argument; run the worker with {argument} alone.");
                continue;
            }

            var prefix = argument.StartsWith("--", StringComparison.Ordinal) ? 2 : argument.StartsWith('-') || argument.StartsWith('/') ? 1 : 0;
            var separator = argument.IndexOf('=', StringComparison.Ordinal);
            string key;
            string value;
            if (prefix == 1 && argument.StartsWith('-'))
            {
                problems.Add($"'{argument}': not a setting; the worker takes settings as --Key=value (for example --StreamSeq:Kafka:BootstrapServers=kafka:9092), and has no single-dash options.");
                continue;
            }

            if (separator >= 0)
            {
                key = argument[prefix..separator];
                value = argument[(separator + 1)..];
            }
            else if (prefix == 0)
            {
                problems.Add($"'{argument}': not a setting; the worker takes settings as --Key=value (for example --StreamSeq:Kafka:BootstrapServers=kafka:9092).");
                continue;
            }
            else if (i + 1 >= args.Count)
            {
                problems.Add($"'{argument}': no value follows; write {(argument.StartsWith('/') ? "--" + argument[1..] : argument)}=value.");
                continue;
            }
            else if (args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                problems.Add($"'{argument}': the next argument, '{args[i + 1]}', is another setting, not its value; write {argument}=value.");
                continue;
            }
            else
            {
                key = argument[prefix..];
                value = args[++i];
            }

            if (argument.StartsWith('/') && key.Contains('/', StringComparison.Ordinal))
            {
                problems.Add($"'{argument}': not a setting (a path where a --Key=value belongs?); the worker takes settings as --Key=value.");
                continue;
            }

            if (key.Trim(':').Length == 0 || key.Split(':').Any(s => s.Length == 0))
            {
                problems.Add($"'{argument}': '{key}' is not a setting's name (sections are separated by single ':', as in StreamSeq:Kafka:GroupId).");
                continue;
            }

            if (given.TryGetValue(key, out var earlier) && !string.Equals(earlier.Value, value, StringComparison.Ordinal))
            {
                problems.Add($"{key}: given twice on the command line with different values ('{earlier.Argument}' and '{argument}'); give it once.");
            }

            given[key] = (argument, value);
        }

        return problems;
    }
}
