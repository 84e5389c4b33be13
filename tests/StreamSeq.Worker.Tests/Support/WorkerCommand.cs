namespace StreamSeq.Worker.Tests.Support;

/// <summary>
/// The worker run as a user runs it (<c>dotnet StreamSeq.Worker.dll ...</c> from its build folder, so with the shipped
/// appsettings.json), for start-up checks: it either exits, or is stopped after a bound.
/// </summary>
internal static class WorkerCommand
{
    /// <summary>What a run printed and how it ended.</summary>
    /// <param name="ExitCode">The exit code, or null when the worker was still running at the bound and was killed.</param>
    /// <param name="Output">Standard output, then standard error.</param>
    public sealed record Outcome(int? ExitCode, string Output)
    {
        /// <summary>The non-blank lines printed.</summary>
        public IReadOnlyList<string> Lines => [.. Output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0)];

        public override string ToString() => $"exit code {(ExitCode is { } c ? c.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none (still running)")}, output:\n{Output}";
    }

    /// <summary>
    /// Runs the worker with <paramref name="args"/> (and <paramref name="environment"/> added) until it exits or
    /// <paramref name="bound"/> passes, from its build folder or from <paramref name="workingDirectory"/>.
    /// </summary>
    public static Outcome Run(IEnumerable<string> args, TimeSpan bound, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        using var scratch = new Scratch("streamseq-worker-run-");
        using var worker = CliProcess.Start(WorkerBuild.Dll(), args, scratch.File("stdout"), workingDirectory, environment);
        int? code = worker.WaitForExit(bound) ? worker.ExitCode : null;
        return new Outcome(code, worker.Output() + worker.Errors);
    }
}
