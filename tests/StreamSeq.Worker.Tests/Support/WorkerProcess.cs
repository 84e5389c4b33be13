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

    /// <summary>The worker's process id.</summary>
    public int ProcessId => process.Id;

    /// <summary>Resident memory of the process now (VmRSS), or 0 once it has exited.</summary>
    public long ResidentBytes
    {
        get
        {
            try
            {
                process.Refresh();
                return process.HasExited ? 0 : process.WorkingSet64;
            }
            catch (InvalidOperationException)
            {
                return 0;
            }
        }
    }

    /// <summary>
    /// <c>StreamSeq</c> settings for a worker process on the test bed's broker: the bed's group, the given instance,
    /// the KIP-848 group protocol, no topic creation, no simulator and the test model; callers add or change the rest.
    /// </summary>
    public static JsonObject Settings(KafkaTestBed bed, string instanceId, string commitInterval) => new()
    {
        ["Kafka"] = new JsonObject
        {
            ["BootstrapServers"] = bed.Cluster.BootstrapServers,
            ["GroupId"] = bed.Options.GroupId,
            ["InstanceId"] = instanceId,
            ["GroupProtocol"] = "consumer",
            ["CommitInterval"] = commitInterval,
            ["TransactionTimeout"] = "00:00:10",
            ["CreateTopics"] = false,
            ["CommitGroupOffsets"] = false,
        },
        ["Processing"] = new JsonObject { ["Lag"] = 2, ["Horizon"] = 1 },
        ["Embedded"] = new JsonObject { ["Simulator"] = false },
        ["Models"] = new JsonArray(JsonNode.Parse(TestInput.Model)),
    };

    /// <summary>The stop signals the worker handles, as coreutils <c>env --default-signal</c> takes them.</summary>
    private const string StopSignals = "INT,QUIT,TERM";

    /// <summary>Whether coreutils <c>env</c> can restore the stop signals (<c>--default-signal</c> came in 8.31).</summary>
    public static bool RestoresStopSignals()
    {
        using var probe = Process.Start(new ProcessStartInfo("env", [$"--default-signal={StopSignals}", "true"]) { RedirectStandardError = true, UseShellExecute = false });
        probe?.WaitForExit();
        return probe is { ExitCode: 0 };
    }

    /// <summary>
    /// Writes the settings and starts the worker (the build output's, or <paramref name="workerDll"/>), with extra
    /// environment variables. With <paramref name="deliverableStopSignals"/> it starts through coreutils
    /// <c>env --default-signal=INT,QUIT,TERM</c> (same process id): a process started in the background without job
    /// control inherits SIGINT and SIGQUIT ignored (POSIX shells ignore both for asynchronous commands), and .NET keeps
    /// an ignored signal ignored, so a test of Ctrl+C or SIGQUIT needs them restored. Restoring SIGINT alone left the
    /// SIGQUIT tests passing or failing by how the test run itself was started.
    /// </summary>
    public static WorkerProcess Start(JsonObject streamSeqSettings, string directory, string? workerDll = null, IReadOnlyDictionary<string, string>? environment = null, bool deliverableStopSignals = false)
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
        string[] command = deliverableStopSignals ? [$"--default-signal={StopSignals}", "dotnet", workerDll ?? WorkerBuild.Dll()] : [workerDll ?? WorkerBuild.Dll()];
        var start = new ProcessStartInfo(deliverableStopSignals ? "env" : "dotnet", command)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Test";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the worker");
        var log = Path.Combine(directory, $"worker-{process.Id}.log");
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WorkerProcess(process, port, directory);
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the process to exit by itself, and then for its output to reach the log
    /// file: <see cref="Process.WaitForExit(TimeSpan)"/> returns at the exit without waiting for the redirected streams,
    /// so the last lines (such as the one a second stop signal writes right before exiting) could still be on their way,
    /// and disposing the process then drops them. The parameterless wait returns once both streams reached their end.
    /// </summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!process.WaitForExit(timeout))
        {
            return false;
        }

        process.WaitForExit();
        return true;
    }

    /// <summary>The exit code (the process must have exited).</summary>
    public int ExitCode => process.ExitCode;

    /// <summary>SIGKILL: no shutdown hooks, no commit, no leaving the group.</summary>
    public void Kill()
    {
        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit(10_000);
        }
    }

    /// <summary>
    /// SIGTERM, as an orchestrator stops a pod: the worker commits, leaves its group and exits. Returns the exit code, or
    /// null when it had to be killed after <paramref name="timeout"/>.
    /// </summary>
    public int? Stop(TimeSpan timeout)
    {
        if (!process.HasExited)
        {
            Signal("TERM");
            if (!process.WaitForExit(timeout))
            {
                Kill();
                return null;
            }
        }

        // Exited: wait for the rest of its output as well (see WaitForExit).
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>
    /// Sends SIG<paramref name="signal"/> (<c>INT</c>, <c>QUIT</c>, <c>TERM</c>) with the kill system call and returns
    /// without waiting for the worker. Not through a <c>kill</c> process: starting one took over a second on a loaded
    /// machine, so two signals meant as one request delivered twice (a few milliseconds apart, as a launcher forwards
    /// them) arrived further apart than the worker's one-second duplicate window and counted as a second request.
    /// </summary>
    public void Signal(string signal)
    {
        var number = signal switch
        {
            "INT" => 2,
            "QUIT" => 3,
            "TERM" => 15,
            _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "INT, QUIT or TERM"),
        };
        Assert.True(SendSignal(process.Id, number) == 0, $"kill -{signal} {process.Id} failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
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

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
