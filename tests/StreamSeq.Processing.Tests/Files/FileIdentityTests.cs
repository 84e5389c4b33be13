using StreamSeq.Processing.Files;

namespace StreamSeq.Processing.Tests.Files;

public sealed class FileIdentityTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-files-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void SameFile_SymbolicLinkDotDotAndHardLink_AreTheSameFile()
    {
        var file = Path.Combine(dir, "data.csv");
        File.WriteAllText(file, "x");
        var link = Path.Combine(dir, "link.csv");
        File.CreateSymbolicLink(link, file);
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        var linkedFolder = Path.Combine(dir, "folder-link");
        Directory.CreateSymbolicLink(linkedFolder, dir);

        Assert.True(FileIdentity.SameFile(file, link));
        Assert.True(FileIdentity.SameFile(file, Path.Combine(dir, "sub", "..", "data.csv")));
        Assert.True(FileIdentity.SameFile(file, Path.Combine(linkedFolder, "data.csv")));
        Assert.False(FileIdentity.SameFile(file, Path.Combine(dir, "other.csv")));
        if (OperatingSystem.IsLinux())
        {
            var hard = Path.Combine(dir, "hard.csv");
            using (var ln = System.Diagnostics.Process.Start("ln", [file, hard])!)
            {
                ln.WaitForExit();
                Assert.Equal(0, ln.ExitCode);
            }

            Assert.True(FileIdentity.SameFile(file, hard));
            File.WriteAllText(Path.Combine(dir, "copy.csv"), "x");
            Assert.False(FileIdentity.SameFile(file, Path.Combine(dir, "copy.csv")));
        }
    }

    [Fact]
    public void AtomicFile_DisposedWithoutCommit_LeavesTheExistingFileAndNoTemporaryFile()
    {
        var path = Path.Combine(dir, "out.jsonl");
        File.WriteAllText(path, "previous results\n");

        using (var file = AtomicFile.Create(path))
        {
            file.Stream.Write("partial"u8);
        }

        Assert.Equal("previous results\n", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(dir));

        using (var file = AtomicFile.Create(path))
        {
            file.Stream.Write("new"u8);
            file.Commit();
        }

        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(dir));
    }

    [Fact]
    public void AtomicFile_FolderOrMissingFolder_FailsBeforeWriting()
    {
        Assert.Throws<IOException>(() => AtomicFile.Create(dir));
        Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.Create(Path.Combine(dir, "missing", "out.csv")));
    }

    [Fact]
    public async Task AtomicFile_NamedPipe_IsWrittenThroughAndStaysAPipe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var pipe = Path.Combine(dir, "pipe");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [pipe])!)
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var received = Task.Run(() => File.ReadAllTextAsync(pipe));
        using (var file = AtomicFile.Create(pipe))
        {
            file.Stream.Write("through the pipe\n"u8);
            file.Commit();
        }

        Assert.Equal("through the pipe\n", await received.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(FileIdentity.IsSpecialFile(pipe));
        Assert.Equal([pipe], Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void AtomicFile_LinkToTheProcessesStandardOutput_IsWrittenThroughAndTheLinkStays()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        // What `-o /dev/stdout` is when the shell sends standard output to a file: a link into /proc/self/fd.
        var target = Path.Combine(dir, "redirected.txt");
        File.WriteAllText(target, "earlier\n");
        using var held = new FileStream(target, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        var descriptor = held.SafeFileHandle.DangerousGetHandle();
        var viaProc = $"/proc/self/fd/{descriptor}";

        using (var file = AtomicFile.Create(viaProc))
        {
            file.Stream.Write("appended\n"u8);
            file.Commit();
        }

        Assert.Equal("earlier\nappended\n", File.ReadAllText(target));
        Assert.Equal([target], Directory.GetFileSystemEntries(dir));
    }
}
