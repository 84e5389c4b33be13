using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>
/// A worker run as a separate process (<c>dotnet StreamSeq.Worker.dll</c>) with its own appsettings.json in a temporary
/// content root, so tests can kill it without warning.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process process;

    private WorkerProcess(Process process, int port, string directory)
    {
        this.process = process;
        Port = port;
        Directory = directory;
    }

    public int Port { get; }

    public string Directory { get; }

    public bool HasExited => process.HasExited;

    /// <summary>Writes the settings and starts the worker (the build output's, or <paramref name="workerDll"/>).</summary>
    public static WorkerProcess Start(JsonObject streamSeqSettings, string directory, string? workerDll = null)
    {
        System.IO.Directory.CreateDirectory(directory);
        var port = Scratch.FreePort();
        var settings = new JsonObject
        {
            ["Logging"] = new JsonObject { ["LogLevel"] = new JsonObject { ["Default"] = "Warning", ["StreamSeq"] = "Information" } },
            ["Urls"] = $"http://127.0.0.1:{port}",
            ["StreamSeq"] = streamSeqSettings.DeepClone(),
        };
        File.WriteAllText(Path.Combine(directory, "appsettings.json"), settings.ToJsonString());
        var start = new ProcessStartInfo("dotnet", [workerDll ?? WorkerBuild.Dll()])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Test";
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the worker");
        var log = Path.Combine(directory, $"worker-{process.Id}.log");
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WorkerProcess(process, port, directory);
    }

    /// <summary>SIGKILL: no shutdown hooks, no commit, no leaving the group.</summary>
    public void Kill()
    {
        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit(10_000);
        }
    }

    /// <summary>Asks /health/ready until it answers 200 or the timeout passes.</summary>
    public bool WaitReady(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout && !process.HasExited)
        {
            try
            {
                if (http.GetAsync(new Uri($"http://127.0.0.1:{Port}/health/ready")).GetAwaiter().GetResult().StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            Thread.Sleep(200);
        }

        return false;
    }

    /// <summary>GETs a path of the worker's HTTP port: status code and body, or (0, error) when it does not answer.</summary>
    public (int Status, string Body) Get(string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = http.GetAsync(new Uri($"http://127.0.0.1:{Port}{path}")).GetAwaiter().GetResult();
            return ((int)response.StatusCode, response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (0, e.Message);
        }
    }

    /// <summary>The worker's console output so far (for failure messages).</summary>
    public string Logs() =>
        string.Join("\n", System.IO.Directory.GetFiles(Directory, "worker-*.log").Select(f => $"--- {Path.GetFileName(f)}\n{File.ReadAllText(f)}"));

    public void Dispose()
    {
        Kill();
        process.Dispose();
    }

    private static void Append(string path, string? line)
    {
        if (line is not null)
        {
            lock (typeof(WorkerProcess))
            {
                File.AppendAllText(path, line + "\n");
            }
        }
    }

}
