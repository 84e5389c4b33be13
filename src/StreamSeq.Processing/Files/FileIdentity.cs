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

    private static bool TryDeviceAndInode(string path, out (ulong Device, ulong Inode) id)
    {
        id = default;
        if (!OperatingSystem.IsLinux() || RuntimeInformation.OSArchitecture is not (Architecture.X64 or Architecture.Arm64) || !Path.Exists(path))
        {
            return false;
        }

        // struct stat on x86-64 and arm64 Linux starts with st_dev then st_ino, both 64-bit.
        var buffer = new byte[256];
        try
        {
            if (NativeMethods.Stat(path, buffer) != 0)
            {
                return false;
            }
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
        catch (DllNotFoundException)
        {
            return false;
        }

        id = (BitConverter.ToUInt64(buffer, 0), BitConverter.ToUInt64(buffer, 8));
        return true;
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "stat", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer);
    }
}
