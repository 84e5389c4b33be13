using StreamSeq.Cli.Io;
using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Cli.Commands;

/// <summary>Turns the errors users can cause into one clear line on stderr and an exit code.</summary>
/// <remarks>
/// Exit codes, as Unix tools use them: 0 success; 1 the input or the environment was rejected (a malformed model
/// or file, a rejected row with <c>--on-error fail</c>, every row rejected, an unwritable output, an output that is
/// one of the inputs); 2 the command line itself is wrong (unknown option, a value of the wrong type or out of range).
/// </remarks>
internal static class CliErrors
{
    /// <summary>The input or environment was rejected.</summary>
    public const int InvalidInput = 1;

    /// <summary>The command line is wrong.</summary>
    public const int Usage = 2;

    public static int Run(TextWriter errors, string? modelFile, Func<int> body)
    {
        ArgumentNullException.ThrowIfNull(errors);
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            return body();
        }
        catch (ModelValidationException e)
        {
            // A problem with the file as a whole (not JSON, not found) names the file itself: say its name once.
            var aboutTheFile = modelFile is not null && Path.IsPathFullyQualified(e.Field) && Path.GetFileName(e.Field) == modelFile;
            if (aboutTheFile && !File.Exists(e.Field) && !Directory.Exists(e.Field))
            {
                // A missing file is most often one looked for in the wrong folder: say where it was looked for, as
                // for a missing input.
                Report(errors, $"model file not found: {e.Field}");
                return InvalidInput;
            }

            Report(errors, modelFile is null ? e.Message : aboutTheFile ? $"{modelFile}: {e.Problem}" : $"{modelFile}: {e.Message}");
            return InvalidInput;
        }
        catch (UsageException e)
        {
            Report(errors, e.Message);
            return Usage;
        }
        catch (FileNotFoundException e)
        {
            Report(errors, e.FileName is { } name && Directory.Exists(name) ? $"'{name}' is a folder, not a file." : $"file not found: {e.FileName ?? e.Message}");
            return InvalidInput;
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException or UnauthorizedAccessException)
        {
            Report(errors, e.Message);
            return InvalidInput;
        }
    }

    /// <summary>Writes one <c>error:</c> line, safe for a terminal.</summary>
    public static void Report(TextWriter errors, string message)
    {
        ArgumentNullException.ThrowIfNull(errors);
        errors.WriteLine($"error: {TerminalText.Clean(message)}");
    }
}
