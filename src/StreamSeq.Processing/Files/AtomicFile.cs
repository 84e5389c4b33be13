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
/// </remarks>
public sealed class AtomicFile : IDisposable
{
    private readonly FileStream stream;
    private bool committed;
    private bool disposed;

    private AtomicFile(string path, string temporaryPath, FileStream stream)
    {
        Path = path;
        TemporaryPath = temporaryPath;
        this.stream = stream;
    }

    /// <summary>The destination.</summary>
    public string Path { get; }

    /// <summary>Where the contents are written until <see cref="Commit"/>.</summary>
    public string TemporaryPath { get; }

    /// <summary>The stream to write to.</summary>
    public Stream Stream => stream;

    /// <summary>Opens a temporary file beside <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The destination is a folder, its folder does not exist, or an existing destination is read-only.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder is not writable.</exception>
    public static AtomicFile Create(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw new IOException("it is a folder.");
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
        return new AtomicFile(full, temporary, stream);
    }

    /// <summary>Flushes the contents to disk and renames the temporary file over the destination.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        stream.Flush(flushToDisk: true);
        stream.Dispose();
        File.Move(TemporaryPath, Path, overwrite: true);
        committed = true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        stream.Dispose();
        if (!committed)
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
}
