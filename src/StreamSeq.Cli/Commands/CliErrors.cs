using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Cli.Commands;

/// <summary>Turns the errors users can cause into one clear line on stderr and an exit code.</summary>
internal static class CliErrors
{
    public const int InvalidInput = 1;
    public const int RejectedRows = 2;

    public static int Run(TextWriter errors, string? modelFile, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (ModelValidationException e)
        {
            errors.WriteLine(modelFile is null ? $"error: {e.Message}" : $"error: {modelFile}: {e.Message}");
            return InvalidInput;
        }
        catch (FormatException e)
        {
            errors.WriteLine($"error: {e.Message}");
            return InvalidInput;
        }
        catch (FileNotFoundException e)
        {
            errors.WriteLine($"error: file not found: {e.FileName ?? e.Message}");
            return InvalidInput;
        }
        catch (DirectoryNotFoundException e)
        {
            errors.WriteLine($"error: {e.Message}");
            return InvalidInput;
        }
        catch (InvalidDataException e)
        {
            errors.WriteLine($"error: {e.Message}");
            return InvalidInput;
        }
    }
}
