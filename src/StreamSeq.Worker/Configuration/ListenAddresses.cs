using System.Globalization;

namespace StreamSeq.Worker.Configuration;

/// <summary>
/// Where the web server listens: checks the addresses it is told to listen on (<c>Urls</c>, <c>HTTP_PORTS</c>,
/// <c>HTTPS_PORTS</c>, <c>Kestrel:Endpoints:*:Url</c>) before it starts, since ASP.NET Core reads an address it cannot
/// parse as something else (<c>http://127.0.0.1:notaport</c> became every interface on port 80) and a typo would expose
/// the worker where nobody meant it to listen; and supplies the default when none is configured.
/// </summary>
/// <remarks>
/// The default is <see cref="DefaultUrl"/>, the loopback interface only, as ASP.NET Core's own default is: run on a
/// laptop, the unauthenticated dashboard and API are not offered to the network the laptop is on. Hosts that should
/// be reached from elsewhere say so, as container images do with <c>ASPNETCORE_HTTP_PORTS=8080</c> (every interface).
/// </remarks>
public static class ListenAddresses
{
    /// <summary>The port the worker listens on unless told otherwise (and the containers' port).</summary>
    public const int DefaultPort = 8080;

    /// <summary>The address the worker listens on when no setting names one.</summary>
    public const string DefaultUrl = "http://localhost:8080";

    private const string KestrelEndpoints = "Kestrel:Endpoints";

    /// <summary>
    /// True when a configuration source names where to listen: <c>Urls</c> (<c>ASPNETCORE_URLS</c>, <c>--urls</c>),
    /// <c>HTTP_PORTS</c>, <c>HTTPS_PORTS</c> (<c>ASPNETCORE_HTTP_PORTS</c>, ...) or a Kestrel endpoint.
    /// </summary>
    public static bool AnyConfigured(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return !string.IsNullOrWhiteSpace(configuration["urls"])
            || !string.IsNullOrWhiteSpace(configuration["http_ports"])
            || !string.IsNullOrWhiteSpace(configuration["https_ports"])
            || configuration.GetSection(KestrelEndpoints).GetChildren().Any();
    }

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

        foreach (var endpoint in configuration.GetSection(KestrelEndpoints).GetChildren())
        {
            var url = endpoint["Url"];
            if (string.IsNullOrWhiteSpace(url))
            {
                problems.Add($"{endpoint.Path}:Url: missing; every Kestrel endpoint needs one, for example http://0.0.0.0:8080.");
            }
            else if (UrlProblem(url.Trim()) is { } problem)
            {
                problems.Add($"{endpoint.Path}:Url: '{url}' is not a listen address ({problem}); expected scheme://host:port, for example http://0.0.0.0:8080.");
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

        if (!host.StartsWith('[') && host is not ("*" or "+"))
        {
            var kind = Uri.CheckHostName(host);
            if (kind == UriHostNameType.Unknown)
            {
                return $"'{host}' is not a host name or address";
            }

            // Kestrel listens on every interface for any host name but localhost: a typo (127.0.0.l, locahost) or a name
            // meant to restrict the address would expose the worker everywhere.
            if (kind != UriHostNameType.IPv4 && !host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            {
                return $"'{host}' is neither an IP address nor localhost, and Kestrel would listen on every interface for it; write * or 0.0.0.0 for every interface, or the address to listen on";
            }
        }

        if (pathAt >= 0 && rest[(pathAt + 1)..].Length > 0)
        {
            return $"a path ('{rest[pathAt..]}') where only an address belongs";
        }

        return port is null || IsPort(port, allowZero: true) ? null : $"the port '{port}' is not a number from 0 to 65535";
    }

    private static bool IsPort(string text, bool allowZero) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535 && (allowZero || port > 0);
}
