using System.Diagnostics;

namespace StreamSeq.Testing;

/// <summary>
/// Runs a command to completion with a bound on its time, for tests that drive the SDK (pack, publish, tool install),
/// installed programs or scripts. Linked into the test projects that need it (tests/Shared).
/// </summary>
public static class ProcessRunner
{
    /// <summary>The exit code and everything the command printed (standard output, then standard error).</summary>
    public sealed record Result(int Code, string Output, string Errors)
    {
        public override string ToString() => $"exit {Code}\n{Output}\n{Errors}";
    }

    /// <summary>Runs <paramref name="file"/> with <paramref name="arguments"/>; kills it and throws after <paramref name="timeout"/>.</summary>
    public static Result Run(string file, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepositoryFiles.Root,
        };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within {timeout}");
        }

        process.WaitForExit();
        return new Result(process.ExitCode, output.Result, errors.Result);
    }

    /// <summary>The commit checked out at the repository root, or null outside a git checkout (or without git).</summary>
    public static string? GitHead()
    {
        try
        {
            var result = Run("git", ["rev-parse", "HEAD"], TimeSpan.FromSeconds(30));
            return result.Code == 0 ? result.Output.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
