using StreamSeq.Cli.Commands;

namespace StreamSeq.Cli.Tests.Commands;

/// <summary>Runs a command line in this process, as the tool's entry point does, with standard output discarded.</summary>
internal static class InProcessCli
{
    /// <summary>The exit code and what the command wrote to standard error.</summary>
    public static (int Code, string Errors) Invoke(params string[] args)
    {
        var errors = new StringWriter();
        var code = Task.Run(() => CliInvocation.RunAsync(CliCommands.Root(TextWriter.Null, errors, () => Stream.Null), args, TextWriter.Null, errors)).Result;
        return (code, errors.ToString());
    }
}
