using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using StreamSeq.Cli.Io;

namespace StreamSeq.Cli.Commands;

/// <summary>
/// Runs a parsed command line the way Unix tools behave: a usage mistake is one line per problem plus a hint, exit
/// code 2; an error while running is one line, exit code 1; a stack trace only with <c>--verbose</c>.
/// </summary>
internal static class CliInvocation
{
    /// <summary>The option that asks for stack traces of unexpected errors.</summary>
    public static Option<bool> Verbose { get; } = new("--verbose")
    {
        Description = "On an unexpected error, print the stack trace too.",
        Recursive = true,
    };

    /// <summary>
    /// The parser lists choices one per line ("Must be one of:\n\t'skip'\n\t'fail'"); the error stays one line:
    /// "Must be one of: 'skip', 'fail'". Only that list, the tab-led lines ending the message, is folded: a newline
    /// inside a value the user gave stays in it, for <see cref="TerminalText.Clean"/> to show as <c>\x0A</c>
    /// (before, it became a space or ", ", so the error quoted a value other than the one given).
    /// </summary>
    internal static string OneLine(string message)
    {
        var lines = message.Split('\n');
        var items = lines.Length;
        while (items > 1 && lines[items - 1].StartsWith('\t'))
        {
            items--;
        }

        if (items == lines.Length || !lines[items - 1].TrimEnd().EndsWith(':'))
        {
            return message;
        }

        var head = string.Join('\n', lines[..items]).TrimEnd();
        return $"{head} {string.Join(", ", lines[items..].Select(l => l.Trim()))}";
    }

    /// <summary>
    /// The error's message led by the option it is about when the message does not name it: the parser's list of
    /// choices said "Argument 'ski' not recognized. Must be one of: 'skip', 'fail'" without saying which option.
    /// </summary>
    internal static string Named(ParseError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var option = error.SymbolResult switch
        {
            OptionResult result => result.Option,
            ArgumentResult { Parent: OptionResult result } => result.Option,
            _ => null,
        };
        return option is null || error.Message.Contains(option.Name, StringComparison.Ordinal) || option.Aliases.Any(a => error.Message.Contains(a, StringComparison.Ordinal))
            ? error.Message
            : $"{option.Name}: {error.Message}";
    }

    /// <summary>
    /// Parses <paramref name="args"/> as they are. The parser's response files are off: it read an argument starting
    /// with <c>@</c> as the name of a file of more arguments and put that file's lines in its place, so
    /// <c>-i @data.csv</c> failed with "Response file not found 'data.csv'", <c>-o @res</c> wrote to whatever file the
    /// first line of <c>res</c> named, and a stream id such as <c>@sensor</c> could not be given at all. A data tool
    /// takes its file names and ids literally; a shell can splice a file of arguments in (<c>$(cat args)</c>).
    /// </summary>
    internal static ParseResult Parse(RootCommand root, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(root);
        return root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
    }

    /// <summary>Parses and runs <paramref name="args"/> against <paramref name="root"/>; returns the exit code.</summary>
    public static async Task<int> RunAsync(RootCommand root, IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(stderr);
        if (!root.Options.Contains(Verbose))
        {
            root.Options.Add(Verbose);
        }

        var parse = Parse(root, args);
        if (parse.Errors.Count > 0 && parse.Action is ParseErrorAction)
        {
            foreach (var error in parse.Errors)
            {
                stderr.WriteLine($"error: {TerminalText.Clean(OneLine(Named(error)))}");
            }

            var command = parse.CommandResult.Command;
            var path = command == root ? root.Name : $"{root.Name} {command.Name}";
            stderr.WriteLine($"Try '{path} --help' for more information.");
            return CliErrors.Usage;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = stdout, Error = stderr }, cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            stderr.WriteLine("cancelled.");
            return 130;
        }
#pragma warning disable CA1031 // the last line of defence: no stack trace reaches a user who did not ask for one
        catch (Exception e)
#pragma warning restore CA1031
        {
            var inner = e is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : e;
            stderr.WriteLine($"error: {TerminalText.Clean(inner.Message)} ({inner.GetType().Name}; this is a bug in streamseq, please report it{(parse.GetValue(Verbose) ? string.Empty : "; --verbose shows where")})");
            if (parse.GetValue(Verbose))
            {
                stderr.WriteLine(inner.ToString());
            }

            return CliErrors.InvalidInput;
        }
    }
}
