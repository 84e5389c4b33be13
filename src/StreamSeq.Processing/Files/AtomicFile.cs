namespace StreamSeq.Processing.Files;

/// <summary>
/// An output file written beside its destination under a temporary name and renamed into place only by
/// <see cref="Commit"/>: a run that fails, or is interrupted, leaves an existing file as it was and no partial file
/// behind (the temporary file is deleted on <see cref="Dispose"/>).
/// </summary>
/// <remarks>
/// The rename replaces the destination's directory entry, so another name of the same file (a hard link) keeps the
/// old contents, and a symbolic link at the destination is replaced by the new file rather than followed. The
/// temporary file is created with exclusive access at open, which also checks early that the folder is writable.
/// A destination that is not a regular file (<c>/dev/null</c>, a named pipe, <c>/dev/stdout</c>) is written in place
/// instead, since renaming over it would replace the device or pipe with a file; so is <c>/dev/stdout</c> (or
/// <c>/dev/fd/N</c>) when the shell redirected it to a file, whose contents are appended. Such a destination cannot
/// be kept as it was by a failing run.
/// </remarks>
public sealed class AtomicFile : IDisposable
{
    private readonly FileStream stream;
    private readonly bool inPlace;
    private readonly string given;
    private readonly string? label;
    private bool committed;
    private bool disposed;

    private AtomicFile(string path, string temporaryPath, FileStream stream, bool inPlace, string given, string? label)
    {
        Path = path;
        TemporaryPath = temporaryPath;
        this.stream = stream;
        this.inPlace = inPlace;
        this.given = given;
        this.label = label;
        Stream = new OutputStream(stream, given, label);
    }

    /// <summary>The destination.</summary>
    public string Path { get; }

    /// <summary>Where the contents are written until <see cref="Commit"/>.</summary>
    public string TemporaryPath { get; }

    /// <summary>The stream to write to; a write that fails (a full disk) throws an <see cref="OutputFileException"/> naming the destination.</summary>
    public Stream Stream { get; }

    /// <summary>Opens a temporary file beside <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The destination is a folder, its folder does not exist, or an existing destination is read-only.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder is not writable.</exception>
    public static AtomicFile Create(string path) => Create(path, null, translate: false);

    /// <summary>
    /// Opens a temporary file beside <paramref name="path"/>; every error, at open, while writing or at
    /// <see cref="Commit"/>, is an <see cref="OutputFileException"/> naming <paramref name="path"/> as given (never
    /// the temporary file), after <paramref name="label"/> when it is not null.
    /// </summary>
    /// <param name="path">The destination.</param>
    /// <param name="label">What the destination is to the user, e.g. the option that named it; or null.</param>
    /// <exception cref="OutputFileException">The destination cannot be written.</exception>
    public static AtomicFile Create(string path, string? label) => Create(path, label, translate: true);

    private static AtomicFile Create(string path, string? label, bool translate)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        try
        {
            return Open(path, label);
        }
        catch (Exception e) when (translate && OutputStream.IsWriteError(e))
        {
            throw OutputFileException.For(path, e, label);
        }
    }

    private static AtomicFile Open(string path, string? label)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw new IOException("it is a folder.");
        }

        if (IsStandardStream(full) || FileIdentity.IsSpecialFile(full))
        {
            var direct = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            if (direct.CanSeek)
            {
                direct.Seek(0, SeekOrigin.End);
            }

            return new AtomicFile(full, full, direct, inPlace: true, path, label);
        }

        var folder = System.IO.Path.GetDirectoryName(full) ?? throw new IOException($"'{path}' has no folder.");
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException("its folder does not exist.");
        }

        if (File.Exists(full))
        {
            // An existing read-only file stays: replacing it by rename would bypass its permissions.
            using (new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
            {
            }
        }

        var temporary = System.IO.Path.Combine(folder, $".{System.IO.Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 16);
        return new AtomicFile(full, temporary, stream, inPlace: false, path, label);
    }

    /// <summary>Flushes the contents to disk and renames the temporary file over the destination.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        try
        {
            if (inPlace)
            {
                stream.Flush();
                committed = true;
                return;
            }

            stream.Flush(flushToDisk: true);
            stream.Dispose();
            File.Move(TemporaryPath, Path, overwrite: true);
            committed = true;
        }
        catch (Exception e) when (OutputStream.IsWriteError(e))
        {
            throw OutputFileException.For(given, e, label);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        try
        {
            stream.Dispose();
        }
        catch (Exception e) when (!committed && OutputStream.IsWriteError(e))
        {
            // Flushing what was left failed (the disk is full): the contents are dropped anyway, and the temporary
            // file must still be deleted, not left behind under its hidden name.
        }

        if (!committed && !inPlace)
        {
            try
            {
                File.Delete(TemporaryPath);
            }
            catch (IOException)
            {
                // Nothing more can be done; the name says what it is.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>
    /// True for the process's own standard streams and descriptors (<c>/dev/stdout</c>, <c>/dev/fd/N</c>,
    /// <c>/proc/self/fd/N</c>), or a link to one: they must never be renamed over.
    /// </summary>
    private static bool IsStandardStream(string full)
    {
        if (OperatingSystem.IsWindows())
        {
            return false;
        }

        var current = full;
        for (var hop = 0; hop < 40; hop++)
        {
            if (current is "/dev/stdout" or "/dev/stderr" or "/dev/stdin"
                || current.StartsWith("/dev/fd/", StringComparison.Ordinal)
                || current.StartsWith("/proc/self/fd/", StringComparison.Ordinal)
                || current.StartsWith($"/proc/{Environment.ProcessId}/fd/", StringComparison.Ordinal))
            {
                return true;
            }

            if (new FileInfo(current).LinkTarget is not { } target)
            {
                return false;
            }

            current = System.IO.Path.GetFullPath(target, System.IO.Path.GetDirectoryName(current) ?? "/");
        }

        return false;
    }
}
