using System.Diagnostics;
using System.Text;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>
/// The worker run as a user runs it (<c>dotnet StreamSeq.Worker.dll ...</c> from its build folder, so with the shipped
/// appsettings.json), for start-up checks: it either exits, or is stopped after a bound.
/// </summary>
internal static class WorkerCommand
{
    /// <summary>What a run printed and how it ended.</summary>
    /// <param name="ExitCode">The exit code, or null when the worker was still running at the bound and was killed.</param>
    /// <param name="Output">Standard output and standard error, interleaved as printed.</param>
    public sealed record Outcome(int? ExitCode, string Output)
    {
        /// <summary>The non-blank lines printed.</summary>
        public IReadOnlyList<string> Lines => [.. Output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0)];

        public override string ToString() => $"exit code {(ExitCode is { } c ? c.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none (still running)")}, output:\n{Output}";
    }

    /// <summary>Runs the worker with <paramref name="args"/> until it exits or <paramref name="bound"/> passes.</summary>
    public static Outcome Run(IEnumerable<string> args, TimeSpan bound)
    {
        var dll = WorkerBuild.Dll();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
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
        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        int? code = null;
        if (process.WaitForExit(bound))
        {
            process.WaitForExit();
            code = process.ExitCode;
        }
        else
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }

        lock (output)
        {
            return new Outcome(code, output.ToString());
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.Append(line).Append('\n');
        }
    }
}
