using System.Diagnostics;
using System.Text;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>
/// A <c>streamseq</c> command (or the worker) run as its own process, as a user runs it: standard output goes to a
/// file (records stay byte-exact), standard error is kept for failure messages.
/// </summary>
internal sealed class CliProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder errors = new();
    private Task copying = Task.CompletedTask;

    private CliProcess(Process process, string outputFile)
    {
        this.process = process;
        OutputFile = outputFile;
    }

    /// <summary>Where standard output goes.</summary>
    public string OutputFile { get; }

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    /// <summary>Standard error so far.</summary>
    public string Errors
    {
        get
        {
            lock (errors)
            {
                return errors.ToString();
            }
        }
    }

    /// <summary>Starts <c>dotnet <paramref name="dll"/> args</c> in <paramref name="workingDirectory"/>, with <paramref name="environment"/> added.</summary>
    public static CliProcess Start(string dll, IEnumerable<string> args, string outputFile, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {dll}");
        var tool = new CliProcess(process, outputFile);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (tool.errors)
                {
                    tool.errors.AppendLine(e.Data);
                }
            }
        };
        process.BeginErrorReadLine();
        var file = new FileStream(outputFile, FileMode.Create, FileAccess.Write, FileShare.ReadWrite);
        tool.copying = Task.Run(async () =>
        {
            // Flushed as it arrives, so that a test can read what a still-running process has printed.
            await using (file)
            {
                var buffer = new byte[65536];
                int n;
                while ((n = await process.StandardOutput.BaseStream.ReadAsync(buffer)) > 0)
                {
                    await file.WriteAsync(buffer.AsMemory(0, n));
                    await file.FlushAsync();
                }
            }
        });
        return tool;
    }

    /// <summary>Runs a <c>streamseq</c> command to its end and returns its exit code.</summary>
    public static int Run(IEnumerable<string> args, string outputFile, TimeSpan bound, out string errors)
    {
        using var tool = Start(WorkerBuild.Cli(), args, outputFile);
        var exited = tool.WaitForExit(bound);
        errors = tool.Errors;
        return exited ? tool.ExitCode : throw new TimeoutException($"streamseq {string.Join(' ', args)} did not end within {bound}: {errors}");
    }

    /// <summary>Waits for the process to end and its output to be written.</summary>
    public bool WaitForExit(TimeSpan bound)
    {
        if (!process.WaitForExit(bound))
        {
            return false;
        }

        process.WaitForExit();
        copying.Wait(bound);
        return true;
    }

    /// <summary>Standard output so far.</summary>
    public string Output()
    {
        using var reader = new StreamReader(new FileStream(OutputFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return reader.ReadToEnd();
    }

    /// <summary>The first line of standard output, once written.</summary>
    public string FirstLine(TimeSpan bound)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < bound && !process.HasExited)
        {
            var text = Output();
            var end = text.IndexOf('\n', StringComparison.Ordinal);
            if (end >= 0)
            {
                return text[..end];
            }

            Thread.Sleep(100);
        }

        throw new TimeoutException($"no output line within {bound}: {Errors}");
    }

    /// <summary>
    /// Ctrl+C: SIGINT to the process, or SIGTERM (the other stop signal the commands handle) when the process
    /// ignores SIGINT, as every process started from a shell's background job without job control does: such a
    /// process cannot be interrupted from a terminal either. Returns the signal sent.
    /// </summary>
    public string Interrupt()
    {
        var signal = IgnoresInterrupt(process.Id) ? "TERM" : "INT";
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        return "SIG" + signal;
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }

        process.Dispose();
    }

    /// <summary>Whether SIGINT (signal 2) is in the ignored set of process <paramref name="pid"/> (Linux's /proc).</summary>
    private static bool IgnoresInterrupt(int pid)
    {
        var status = $"/proc/{pid}/status";
        if (!File.Exists(status))
        {
            return false;
        }

        foreach (var line in File.ReadLines(status))
        {
            if (line.StartsWith("SigIgn:", StringComparison.Ordinal))
            {
                return (ulong.Parse(line.AsSpan(7).Trim(), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture) & 0x2UL) != 0;
            }
        }

        return false;
    }
}
