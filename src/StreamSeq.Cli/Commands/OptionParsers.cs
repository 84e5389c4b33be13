using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace StreamSeq.Cli.Commands;

/// <summary>
/// Options whose values are checked while the command line is parsed, so a wrong value is a usage error (exit code 2)
/// with one line naming the option, never an exception.
/// </summary>
internal static class OptionParsers
{
    /// <summary>A whole number from <paramref name="minimum"/> to <paramref name="maximum"/>.</summary>
    /// <param name="name">The option.</param>
    /// <param name="description">Its help.</param>
    /// <param name="defaultValue">Its value when absent.</param>
    /// <param name="minimum">The smallest value.</param>
    /// <param name="maximum">The largest value.</param>
    /// <param name="workerLimit">
    /// The limit the help states for an option the command caps (with a note) rather than refuses: a number too large
    /// for a whole number at all is refused naming this limit, not the largest whole number.
    /// </param>
    public static Option<int> WholeNumber(string name, string description, int defaultValue, int minimum, int maximum = int.MaxValue, int? workerLimit = null)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.CustomParser = result => ParseWhole(result, name, minimum, maximum, workerLimit) is { } value ? (int)value : defaultValue;
        return option;
    }

    /// <summary>An optional whole number from <paramref name="minimum"/> to <paramref name="maximum"/> (null when absent).</summary>
    public static Option<int?> OptionalWholeNumber(string name, string description, int minimum, int maximum)
    {
        var option = new Option<int?>(name) { Description = description };
        option.CustomParser = result => ParseWhole(result, name, minimum, maximum, null) is { } value ? (int)value : null;
        return option;
    }

    /// <summary>A random seed: any whole number from 0 to 2⁶⁴ − 1.</summary>
    public static Option<ulong> Seed(string description, ulong defaultValue)
    {
        var option = new Option<ulong>("--seed") { Description = description, DefaultValueFactory = _ => defaultValue };
        option.CustomParser = result => ParseWhole(result, "--seed", ulong.MinValue, ulong.MaxValue, null) is { } value ? (ulong)value : defaultValue;
        return option;
    }

    /// <summary>
    /// The option's value as a whole number in [<paramref name="minimum"/>, <paramref name="maximum"/>], or null after
    /// adding the error that names the option (the parser's own message named a .NET type: 'System.UInt64').
    /// </summary>
    private static BigInteger? ParseWhole(ArgumentResult result, string name, BigInteger minimum, BigInteger maximum, int? workerLimit)
    {
        var text = LastToken(result);
        if (!BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            result.AddError($"{name}: '{text}' is not a whole number.");
            return null;
        }

        if (value >= minimum && value <= maximum)
        {
            return value;
        }

        // A whole number too large for the option is out of its range, not "not a whole number".
        result.AddError(
            value < minimum && maximum == int.MaxValue ? $"{name}: must be at least {minimum}, got {text}."
            : value > maximum && workerLimit is { } limit ? $"{name}: {text} is above the limit of {limit} (the worker's)."
            : $"{name}: must be between {minimum} and {maximum}, got {text}.");
        return null;
    }

    /// <summary>
    /// Gives every file or folder option of every command under <paramref name="root"/> a parser that refuses an empty
    /// path with one line naming the option; the parser's own conversion reported <c>-i ""</c> as "Cannot parse
    /// argument '' for option '--input' as expected type 'System.IO.FileInfo'". Applied to the whole tree, so a file
    /// option added later gets it too.
    /// </summary>
    public static void CheckPaths(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        foreach (var option in root.Subcommands.SelectMany(c => c.Options))
        {
            switch (option)
            {
                case Option<FileInfo> file when file.CustomParser is null:
                    file.CustomParser = result => PathText(result, file.Name) is { } text ? new FileInfo(text) : null;
                    break;
                case Option<FileSystemInfo> fileOrFolder when fileOrFolder.CustomParser is null:
                    fileOrFolder.CustomParser = result => PathText(result, fileOrFolder.Name) is { } text
                        ? Directory.Exists(text) ? new DirectoryInfo(text) : new FileInfo(text)
                        : null;
                    break;
            }
        }
    }

    /// <summary>The value given (the last one, when the option is repeated), or empty.</summary>
    private static string LastToken(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;

    private static string? PathText(ArgumentResult result, string name)
    {
        var text = LastToken(result);
        if (text.Length == 0 || text.Contains('\0', StringComparison.Ordinal))
        {
            result.AddError($"{name}: {(text.Length == 0 ? "must not be empty" : "must not contain a NUL character")} (a file name).");
            return null;
        }

        return text;
    }

    /// <summary>Refuses a blank value of <paramref name="option"/> (an empty broker list would only time out later).</summary>
    public static T NotBlank<T>(T option)
        where T : Option
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result =>
        {
            if (result.Tokens.Any(t => string.IsNullOrWhiteSpace(t.Value)))
            {
                result.AddError($"{option.Name}: must not be empty.");
            }
        });
        return option;
    }

    /// <summary>
    /// Refuses <c>-</c> for an output only a file can take: <c>run --output -</c> writes to standard output, and the
    /// same value elsewhere wrote a file (plot: a folder) named '-'. A file of that name is still <c>./-</c>.
    /// </summary>
    public static T FileNotStandardOutput<T>(T option)
        where T : Option
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result =>
        {
            if (result.Tokens.Any(t => t.Value == "-"))
            {
                result.AddError($"{option.Name}: '-' (standard output) is only for run --output; give a file name here ('./-' for a file named '-').");
            }
        });
        return option;
    }

    /// <summary>
    /// A broker list <c>host:port[,host:port...]</c>: blank or in a form librdkafka cannot use (<c>kafka:notaport</c>,
    /// <c>http://kafka:9092</c>) is a usage error at once, where the client would only have reported, after its
    /// timeout, a broker that cannot be reached.
    /// </summary>
    public static T BootstrapServers<T>(T option)
        where T : Option
    {
        NotBlank(option);
        return EveryValue(option, StreamSeq.Kafka.KafkaBootstrapServers.Problem);
    }

    /// <summary>Adds Kafka's topic-name rule to <paramref name="option"/> (every value, when it is repeatable).</summary>
    public static T TopicNames<T>(T option)
        where T : Option
    {
        ArgumentNullException.ThrowIfNull(option);
        return EveryValue(option, StreamSeq.Kafka.KafkaTopicName.Problem);
    }

    /// <summary>Checks every value of <paramref name="option"/> with <paramref name="problem"/>; the first problem is the error.</summary>
    private static T EveryValue<T>(T option, Func<string, string?> problem)
        where T : Option
    {
        option.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (problem(token.Value) is { } found)
                {
                    result.AddError($"{option.Name}: {found}");
                    return;
                }
            }
        });
        return option;
    }

    /// <summary>A finite number of at least <paramref name="minimum"/> (above it when <paramref name="exclusive"/>).</summary>
    public static Option<double> FiniteNumber(string name, string description, double defaultValue, double minimum, bool exclusive = false, double maximum = double.MaxValue)
    {
        var option = new Option<double>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        option.CustomParser = result => Parse(result, name, minimum, exclusive, maximum) ?? defaultValue;
        return option;
    }

    /// <summary>An optional finite number above <paramref name="minimum"/> (null when absent).</summary>
    public static Option<double?> OptionalFiniteNumber(string name, string description, double minimum, bool exclusive = true)
    {
        var option = new Option<double?>(name) { Description = description };
        option.CustomParser = result => Parse(result, name, minimum, exclusive, double.MaxValue);
        return option;
    }

    private static double? Parse(ArgumentResult result, string name, double minimum, bool exclusive, double maximum)
    {
        var text = LastToken(result);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
        {
            result.AddError($"{name}: '{text}' is not a finite number.");
            return null;
        }

        if (exclusive ? value <= minimum : value < minimum)
        {
            result.AddError($"{name}: must be {(exclusive ? "above" : "at least")} {minimum.ToString(CultureInfo.InvariantCulture)}, got {text}.");
        }
        else if (value > maximum)
        {
            result.AddError($"{name}: must be at most {maximum.ToString(CultureInfo.InvariantCulture)}, got {text}.");
        }

        return value;
    }
}
