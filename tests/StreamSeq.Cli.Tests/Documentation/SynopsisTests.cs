using System.Text.RegularExpressions;
using StreamSeq.Cli.Commands;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Documentation;

/// <summary>
/// The README's command-line synopsis (the <c>text</c> block under "Command line") names only commands and options
/// that exist, so a renamed or removed option cannot stay in it. It abbreviates: not every option has to appear.
/// </summary>
public sealed partial class SynopsisTests
{
    [Fact]
    public void Synopsis_InTheReadme_NamesOnlyCommandsAndOptionsThatExist()
    {
        var commands = CliCommands.Root(TextWriter.Null, TextWriter.Null, () => Stream.Null).Subcommands.ToDictionary(c => c.Name);

        var synopsis = Synopsis(File.ReadAllText(RepositoryFiles.Path("README.md")));
        var named = new HashSet<string>();
        var problems = new List<string>();
        string? current = null;
        foreach (var line in synopsis.Split('\n'))
        {
            var start = CommandRegex().Match(line);
            if (start.Success)
            {
                current = start.Groups[1].Value;
                named.Add(current);
                if (!commands.ContainsKey(current))
                {
                    problems.Add($"'{current}' is not a command");
                    continue;
                }
            }

            if (current is null || !commands.TryGetValue(current, out var command))
            {
                continue;
            }

            var options = command.Options.SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet();
            foreach (Match option in OptionRegex().Matches(line))
            {
                if (!options.Contains(option.Value))
                {
                    problems.Add($"streamseq {current}: {option.Value} is not one of its options");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Equal(commands.Keys.Order(), named.Order());
    }

    private static string Synopsis(string readme)
    {
        var heading = readme.IndexOf("\n## Command line\n", StringComparison.Ordinal);
        Assert.True(heading >= 0, "README.md has no 'Command line' section");
        var open = readme.IndexOf("```text\n", heading, StringComparison.Ordinal);
        var close = readme.IndexOf("\n```", open + 8, StringComparison.Ordinal);
        Assert.True(open >= 0 && close > open, "the 'Command line' section has no text block");
        return readme[(open + 8)..close];
    }

    [GeneratedRegex(@"^streamseq\s+(\S+)")]
    private static partial Regex CommandRegex();

    [GeneratedRegex(@"--[a-z][a-z-]*")]
    private static partial Regex OptionRegex();
}
