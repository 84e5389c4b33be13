using System.Runtime.InteropServices;

namespace StreamSeq.Processing.Files;

/// <summary>
/// Tells whether two paths name the same file: through symbolic links, <c>..</c> segments and, on Linux, hard links
/// (same device and inode). Used to refuse an output that is one of a command's inputs.
/// </summary>
public static class FileIdentity
{
    /// <summary>True when both paths exist and are the same file, or resolve to the same path.</summary>
    public static bool SameFile(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (TryDeviceAndInode(a, out var first) && TryDeviceAndInode(b, out var second))
        {
            return first == second;
        }

        var comparison = OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        return string.Equals(RealPath(a), RealPath(b), comparison);
    }

    /// <summary>The full path with every symbolic link along it resolved (as far as the path exists).</summary>
    public static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full) ?? string.Empty;
        var resolved = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(resolved, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.Exists && info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
            {
                next = Path.GetFullPath(target.FullName);
            }

            resolved = next;
        }

        return resolved;
    }

    /// <summary>
    /// True when <paramref name="path"/> exists, through links, and is neither a regular file nor a folder: a device
    /// such as <c>/dev/null</c>, a named pipe, a socket, or <c>/dev/stdout</c> when it is a pipe or a terminal. Such a
    /// destination cannot be replaced by a rename and is written in place (Linux on x86-64 and arm64; elsewhere false).
    /// </summary>
    internal static bool IsSpecialFile(string path)
    {
        if (!TryStat(path, out var buffer))
        {
            return false;
        }

        var mode = Mode(buffer);
        const uint typeMask = 0xF000;
        const uint regular = 0x8000;
        const uint folder = 0x4000;
        return (mode & typeMask) is not regular and not folder;
    }

    /// <summary>
    /// True when <paramref name="path"/> exists, through links, and is a character device: <c>/dev/null</c>, or a
    /// terminal (<c>/dev/stdout</c> and <c>/dev/stdin</c> on one are the same device). Writing to one replaces no
    /// file's contents (Linux on x86-64 and arm64; elsewhere false).
    /// </summary>
    public static bool IsCharacterDevice(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return TryStat(path, out var buffer) && (Mode(buffer) & 0xF000) == 0x2000;
    }

    private static uint Mode(byte[] buffer) =>
        // st_mode follows st_nlink (64-bit) on x86-64 and precedes it on arm64 (the generic layout).
        BitConverter.ToUInt32(buffer, RuntimeInformation.OSArchitecture == Architecture.X64 ? 24 : 16);

    private static bool TryDeviceAndInode(string path, out (ulong Device, ulong Inode) id)
    {
        id = default;
        if (!TryStat(path, out var buffer))
        {
            return false;
        }

        // struct stat on x86-64 and arm64 Linux starts with st_dev then st_ino, both 64-bit.
        id = (BitConverter.ToUInt64(buffer, 0), BitConverter.ToUInt64(buffer, 8));
        return true;
    }

    private static bool TryStat(string path, out byte[] buffer)
    {
        buffer = [];
        if (!OperatingSystem.IsLinux() || RuntimeInformation.OSArchitecture is not (Architecture.X64 or Architecture.Arm64) || !Path.Exists(path))
        {
            return false;
        }

        buffer = new byte[256];
        try
        {
            return NativeMethods.Stat(path, buffer) == 0;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "stat", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer);
    }
}
