using StreamSeq.Cli.Commands;
using StreamSeq.Processing.Files;

namespace StreamSeq.Cli.Io;

/// <summary>
/// The rules every command follows for the files it writes: an output may not be one of the command's inputs (or
/// another of its outputs), compared as real files through links; it is written under a temporary name beside it and
/// renamed into place only when the command succeeds, so a failing run leaves an existing file as it was.
/// </summary>
internal static class OutputFiles
{
    /// <summary>Refuses an output that is one of the inputs or another output (a character device excepted).</summary>
    /// <exception cref="IOException">Two of the files are the same; the message names both options.</exception>
    public static void CheckDistinct(IReadOnlyList<(string Option, string? Path)> outputs, IReadOnlyList<(string Option, string? Path)> inputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(inputs);
        for (var i = 0; i < outputs.Count; i++)
        {
            var (option, path) = outputs[i];

            // A character device (/dev/null, the terminal) keeps no contents to overwrite: two outputs may go to
            // /dev/null, and on a terminal /dev/stdout is the very device /dev/stdin is.
            if (path is null or "-" || FileIdentity.IsCharacterDevice(path))
            {
                continue;
            }

            foreach (var (inputOption, inputPath) in inputs)
            {
                if (inputPath is not null && FileIdentity.SameFile(path, inputPath))
                {
                    throw new IOException($"{option} '{path}' is the {inputOption} file: refusing to overwrite an input.");
                }
            }

            for (var j = 0; j < i; j++)
            {
                if (outputs[j].Path is { } other && other != "-" && FileIdentity.SameFile(path, other))
                {
                    throw new IOException($"{option} and {outputs[j].Option} are the same file '{path}'.");
                }
            }
        }
    }

    /// <summary>Opens a temporary file beside <paramref name="path"/>, or says in one line why it cannot be written.</summary>
    /// <exception cref="OutputFileException">The output cannot be written; the message names the option and the path.</exception>
    public static AtomicFile Open(string option, string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new UsageException($"{option}: the path is blank.");
        }

        // Every failure, at open, while writing (a full disk) or at the rename, names the option and this path, not
        // the temporary file beside it.
        return AtomicFile.Create(path, option);
    }

    /// <summary>Creates the folder <paramref name="path"/> (and its parents) for outputs, or says in one line why it cannot.</summary>
    /// <exception cref="OutputFileException">The folder cannot be created (a read-only or full file system); the message names the option and the path.</exception>
    public static void CreateFolder(string option, string path)
    {
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw OutputFileException.For(path, e, option);
        }
    }

    /// <summary>Writes a whole text file atomically.</summary>
    public static void WriteAllText(string option, string path, string contents)
    {
        using var file = Open(option, path);
        using (var writer = new StreamWriter(file.Stream, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true))
        {
            writer.Write(contents);
        }

        file.Commit();
    }
}
