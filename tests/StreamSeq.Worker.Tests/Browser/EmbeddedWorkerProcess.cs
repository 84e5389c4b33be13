using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;

namespace StreamSeq.Worker.Tests.Browser;

/// <summary>
/// The worker as users run it: its own process (the build output next to the tests), embedded broker and simulator,
/// on a free loopback port, with settings given on the command line. Killed with its process tree on dispose.
/// </summary>
internal sealed class EmbeddedWorkerProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    private EmbeddedWorkerProcess(Process process, string url)
    {
        this.process = process;
        Url = url;
    }

    /// <summary>The worker's base address, for example <c>http://127.0.0.1:41234</c>.</summary>
    public string Url { get; }

    /// <summary>What the worker printed so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>Starts the worker (with <paramref name="environment"/> added to its environment) and waits until it answers on /health/live.</summary>
    public static async Task<EmbeddedWorkerProcess> StartAsync(IReadOnlyDictionary<string, string> settings, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "StreamSeq.Worker.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException("the worker's build output is not next to the tests", dll);
        }

        var url = $"http://127.0.0.1:{FreePort()}";
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(url);

        // Settings given on the command line: the embedded broker must be asked for (docs/worker.md, "Which broker").
        start.ArgumentList.Add("--StreamSeq:Embedded:Enabled=true");
        foreach (var (key, value) in settings)
        {
            start.ArgumentList.Add($"--{key}={value}");
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the worker");
        var worker = new EmbeddedWorkerProcess(process, url);
        process.OutputDataReceived += (_, e) => worker.Append(e.Data);
        process.ErrorDataReceived += (_, e) => worker.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                var code = process.ExitCode;
                await worker.DisposeAsync().ConfigureAwait(false);
                throw new InvalidOperationException($"the worker exited with code {code}: {worker.Output}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri($"{url}/health/live")).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return worker;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            if (clock.Elapsed > timeout)
            {
                await worker.DisposeAsync().ConfigureAwait(false);
                throw new TimeoutException($"the worker did not answer within {timeout.TotalSeconds:F0} s: {worker.Output}");
            }

            await Task.Delay(200).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
        }

        process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            if (output.Length < 200_000)
            {
                output.AppendLine(line);
            }
        }
    }
}
