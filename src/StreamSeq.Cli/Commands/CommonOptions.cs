using System.CommandLine;

namespace StreamSeq.Cli.Commands;

/// <summary>Options several commands share, with one description each.</summary>
internal static class CommonOptions
{
    public static Option<FileInfo> Model() => new("--model", "-m")
    {
        Description = "Model spec (JSON): name, kind and parameters. See README, 'Model specs'.",
        Required = true,
    };

    public static Option<FileInfo> Input(string description) => new("--input", "-i")
    {
        Description = description,
        Required = true,
    };

    public static Option<FileInfo> Output(string description) => new("--output", "-o")
    {
        Description = description,
        Required = true,
    };
}
