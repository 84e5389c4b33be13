using System.Globalization;
using StreamSeq.Processing.Records;

namespace StreamSeq.Worker.Hosting;

/// <summary>
/// <c>StreamSeq.Worker probe [url]</c>: asks a running worker's liveness endpoint and exits 0 when it answers 2xx, 1
/// otherwise. Container images without a shell or curl (chiseled, distroless) use it as their health check.
/// </summary>
public static class HealthProbe
{
    /// <summary>The first command-line argument that selects the probe instead of the worker.</summary>
    public const string Verb = "probe";

    /// <summary>Probes <paramref name="url"/>, or the liveness endpoint on the port ASP.NET Core listens on.</summary>
    /// <param name="url">Endpoint to ask; null: <c>http://127.0.0.1:&lt;first ASPNETCORE_HTTP_PORTS port, or 8080&gt;/health/live</c>.</param>
    /// <param name="error">Where a failure is described (on one line, control characters of the URL and the answer escaped).</param>
    /// <returns>The process exit code.</returns>
    public static async Task<int> RunAsync(string? url, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var target = url ?? DefaultUrl(Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS"));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await client.GetAsync(new Uri(target)).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return 0;
            }

            await error.WriteLineAsync($"probe: {TerminalSafeText.Escape(target)} answered {(int)response.StatusCode} {TerminalSafeText.Escape(response.ReasonPhrase)}").ConfigureAwait(false);
            return 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException)
        {
            await error.WriteLineAsync($"probe: {TerminalSafeText.Escape(target)}: {TerminalSafeText.Escape(e.Message)}").ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>The liveness URL on the first port of an <c>ASPNETCORE_HTTP_PORTS</c> value (8080 when unset).</summary>
    public static string DefaultUrl(string? httpPorts)
    {
        var first = (httpPorts ?? string.Empty).Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        var port = int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : WorkerEndpoints.ContainerPort;
        return $"http://127.0.0.1:{port}{WorkerEndpoints.Live}";
    }
}
