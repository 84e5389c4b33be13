using System.Globalization;

namespace StreamSeq.Worker.Configuration;

/// <summary>
/// Checks the addresses the web server is told to listen on (<c>Urls</c>, <c>HTTP_PORTS</c>, <c>HTTPS_PORTS</c>) before it
/// starts: ASP.NET Core reads an address it cannot parse as something else (<c>http://127.0.0.1:notaport</c> became
/// every interface on port 80), so a typo would expose the worker where nobody meant it to listen.
/// </summary>
public static class ListenAddresses
{
    /// <summary>The problems, one line each naming the setting and the address; empty when all can be used.</summary>
    public static IReadOnlyList<string> FindProblems(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<string>();
        foreach (var url in Split(configuration["urls"]))
        {
            if (UrlProblem(url) is { } problem)
            {
                problems.Add($"Urls: '{url}' is not a listen address ({problem}); expected scheme://host:port, for example http://0.0.0.0:8080.");
            }
        }

        foreach (var name in new[] { "HTTP_PORTS", "HTTPS_PORTS" })
        {
            foreach (var port in Split(configuration[name]))
            {
                if (!IsPort(port, allowZero: false))
                {
                    problems.Add($"{name}: '{port}' is not a port number from 1 to 65535.");
                }
            }
        }

        return problems;
    }

    private static string[] Split(string? list) =>
        (list ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>What is wrong with one URL of <c>Urls</c>, or null.</summary>
    private static string? UrlProblem(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            return "no scheme";
        }

        var scheme = url[..schemeEnd];
        if (!scheme.Equals("http", StringComparison.OrdinalIgnoreCase) && !scheme.Equals("https", StringComparison.OrdinalIgnoreCase))
        {
            return $"the scheme '{scheme}' is neither http nor https";
        }

        var rest = url[(schemeEnd + 3)..];
        if (rest.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            return rest.Length > "unix:".Length ? null : "no socket path";
        }

        var pathAt = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = pathAt < 0 ? rest : rest[..pathAt];
        string host;
        string? port;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return "an IPv6 address without its closing ']'";
            }

            host = authority[..(close + 1)];
            var after = authority[(close + 1)..];
            port = after.Length == 0 ? null : after.StartsWith(':') ? after[1..] : string.Empty;
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            port = colon < 0 ? null : authority[(colon + 1)..];
        }

        if (host.Length == 0)
        {
            return "no host";
        }

        if (!host.StartsWith('[') && host != "*" && host != "+" && Uri.CheckHostName(host) == UriHostNameType.Unknown)
        {
            return $"'{host}' is not a host name or address";
        }

        return port is null || IsPort(port, allowZero: true) ? null : $"the port '{port}' is not a number from 0 to 65535";
    }

    private static bool IsPort(string text, bool allowZero) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535 && (allowZero || port > 0);
}
