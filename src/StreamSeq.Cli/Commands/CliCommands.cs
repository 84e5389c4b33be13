using System.CommandLine;
using StreamSeq.Cli.Io;

namespace StreamSeq.Cli.Commands;

/// <summary>The <c>streamseq</c> command and its subcommands, writing where they are told (the console, or a test's writers).</summary>
internal static class CliCommands
{
    /// <summary>The root command's description, the first lines of <c>streamseq --help</c>.</summary>
    public const string Description = "streamseq: online sequence inference over files with the worker's models and processor (filtering, smoothing, forecasting, fitting, anomaly detection), plus the tools around the worker (read a topic's committed records, run the embedded broker).";

    /// <summary>Every subcommand under one root.</summary>
    /// <param name="stdout">Where commands print their results.</param>
    /// <param name="stderr">Where commands print progress, summaries and errors: through a <see cref="TerminalWriter"/>,
    /// so no name or value a message echoes can drive the terminal or split the line.</param>
    /// <param name="openOutput">The byte stream <c>read</c> writes its records to.</param>
    public static RootCommand Root(TextWriter stdout, TextWriter stderr, Func<Stream> openOutput)
    {
        stderr = TerminalWriter.Wrap(stderr);
        var root = new RootCommand(Description)
        {
            RunCommand.Create(stdout, stderr),
            FitCommand.Create(stdout, stderr),
            SimulateCommand.Create(stdout, stderr),
            DetectCommand.Create(stdout, stderr),
            GenerateCommand.Create(stdout, stderr),
            PlotCommand.Create(stdout, stderr),
            ReadCommand.Create(openOutput, stderr),
            BrokerCommand.Create(stdout, stderr),
        };
        OptionParsers.CheckPaths(root);
        return root;
    }
}
