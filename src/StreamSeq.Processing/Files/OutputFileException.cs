using System.Text.RegularExpressions;

namespace StreamSeq.Processing.Files;

/// <summary>
/// An output file could not be written (the disk is full, the folder is read-only): the message names the
/// destination as the caller gave it, never the temporary file an <see cref="AtomicFile"/> writes first.
/// </summary>
public sealed partial class OutputFileException : IOException
{
    /// <summary>Initializes a new instance of the <see cref="OutputFileException"/> class.</summary>
    /// <param name="path">The destination, as the caller named it.</param>
    /// <param name="reason">Why it cannot be written, e.g. "no space left on device".</param>
    /// <param name="inner">The error of the file system.</param>
    /// <param name="label">What the destination is to the user (e.g. the option that gave it), said first; or null.</param>
    public OutputFileException(string path, string reason, Exception? inner, string? label = null)
        : base($"{(label is null ? string.Empty : label + ": ")}cannot write '{path}': {reason}.", inner)
    {
        Path = path;
        Reason = reason;
        Label = label;
    }

    /// <summary>What the destination is to the user (e.g. the option that gave it), or null.</summary>
    public string? Label { get; }

    /// <summary>The destination, as the caller named it.</summary>
    public string Path { get; }

    /// <summary>Why it cannot be written, in lower case without a final full stop.</summary>
    public string Reason { get; }

    /// <summary>The error for <paramref name="path"/> that <paramref name="error"/> (of the file system) means.</summary>
    /// <param name="path">The destination, as the caller named it.</param>
    /// <param name="error">The file system's error; one that is already an <see cref="OutputFileException"/> is returned as it is.</param>
    /// <param name="label">What the destination is to the user (e.g. the option that gave it), or null.</param>
    /// <returns>The exception to throw.</returns>
    public static OutputFileException For(string path, Exception error, string? label = null) =>
        error as OutputFileException ?? new OutputFileException(path, ReasonOf(error), error, label);

    /// <summary>
    /// The file system's reason without the path it names (the runtime's messages end "... : '/path'", and the path is
    /// the temporary file's): "No space left on device : '/out/.o.jsonl.1f2e.tmp'" is "no space left on device".
    /// </summary>
    private static string ReasonOf(Exception error)
    {
        var reason = error switch
        {
            UnauthorizedAccessException => "permission denied",
            DirectoryNotFoundException => "its folder does not exist",

            // EFBIG (a file size limit) comes as this, from the runtime's mapping of the error.
            ArgumentOutOfRangeException => "the file would be larger than this file system or the process's file size limit allows",
            _ => NamedPath().Replace(error.Message, string.Empty).Trim().TrimEnd('.'),
        };
        if (reason.Length == 0)
        {
            return "an input/output error";
        }

        return reason.Length > 1 && char.IsUpper(reason[0]) && !char.IsUpper(reason[1]) ? char.ToLowerInvariant(reason[0]) + reason[1..] : reason;
    }

    [GeneratedRegex(@"\s*:\s*'[^']*'\s*\.?$")]
    private static partial Regex NamedPath();
}
