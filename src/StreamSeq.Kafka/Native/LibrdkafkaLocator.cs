using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;

namespace StreamSeq.Kafka.Native;

/// <summary>Finds and loads the first librdkafka build the dynamic loader accepts on this machine.</summary>
internal static class LibrdkafkaLocator
{
    /// <summary>Loads the library, returning its path (or loader name) and OS handle.</summary>
    public static (string Path, IntPtr Handle) Load()
    {
        var failures = new StringBuilder();
        var explicitPath = Environment.GetEnvironmentVariable(KafkaNative.PathVariable);
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            if (TryLoad(explicitPath, failures, out var handle))
            {
                return (explicitPath, handle);
            }

            throw new DllNotFoundException(
                $"{KafkaNative.PathVariable}='{explicitPath}' could not be loaded: {failures}");
        }

        foreach (var candidate in Candidates())
        {
            if (TryLoad(candidate, failures, out var handle))
            {
                return (candidate, handle);
            }
        }

        throw new DllNotFoundException(
            "No working librdkafka found (is the Confluent.Kafka / librdkafka.redist package referenced and its " +
            $"runtimes folder deployed?). Tried:{failures}");
    }

    /// <summary>
    /// Candidate files in preference order: each file name is tried in every directory before the next name, as
    /// Confluent.Kafka's own loader does; a system-wide library comes last.
    /// </summary>
    public static IEnumerable<string> Candidates()
    {
        var directories = SearchDirectories();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fileName in FileNames())
        {
            foreach (var directory in directories)
            {
                var path = Path.GetFullPath(Path.Combine(directory, fileName));
                if (seen.Add(path) && File.Exists(path))
                {
                    yield return path;
                }
            }
        }

        foreach (var systemName in SystemNames())
        {
            yield return systemName;
        }
    }

    private static List<string> SearchDirectories()
    {
        var directories = new List<string>();

        // The host's probing list: runtimes/<rid>/native of the build output, or of the NuGet cache when the app runs
        // from package folders (tests with an additional probing path).
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string hostList)
        {
            directories.AddRange(hostList.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }

        var rid = RuntimeFolder();
        foreach (var root in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(Library).Assembly.Location) })
        {
            if (string.IsNullOrEmpty(root))
            {
                continue;
            }

            if (rid is not null)
            {
                directories.Add(Path.Combine(root, "runtimes", rid, "native"));
            }

            // A RID-specific publish flattens native assets into the application folder.
            directories.Add(root);
        }

        return directories;
    }

    private static string? RuntimeFolder()
    {
        var arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.Arm64 => "arm64",
            Architecture.X86 => "x86",
            _ => null,
        };
        if (arch is null)
        {
            return null;
        }

        if (OperatingSystem.IsLinux())
        {
            return "linux-" + arch;
        }

        if (OperatingSystem.IsMacOS())
        {
            return "osx-" + arch;
        }

        return OperatingSystem.IsWindows() ? "win-" + arch : null;
    }

    private static string[] FileNames()
    {
        if (OperatingSystem.IsWindows())
        {
            return ["librdkafka.dll"];
        }

        if (OperatingSystem.IsMacOS())
        {
            return ["librdkafka.dylib"];
        }

        // The plain build links libsasl2 (for GSSAPI); the centos8 build does not; the alpine build needs musl.
        return ["librdkafka.so", "centos8-librdkafka.so", "alpine-librdkafka.so"];
    }

    private static string[] SystemNames()
    {
        if (OperatingSystem.IsWindows())
        {
            return ["librdkafka.dll"];
        }

        return OperatingSystem.IsMacOS() ? ["librdkafka.1.dylib", "librdkafka.dylib"] : ["librdkafka.so.1", "librdkafka.so"];
    }

    private static bool TryLoad(string path, StringBuilder failures, out IntPtr handle)
    {
        try
        {
            handle = NativeLibrary.Load(path);
            return true;
        }
        catch (DllNotFoundException ex)
        {
            failures.Append(Environment.NewLine).Append("  ").Append(path).Append(": ").Append(ex.Message);
        }
        catch (BadImageFormatException ex)
        {
            failures.Append(Environment.NewLine).Append("  ").Append(path).Append(": ").Append(ex.Message);
        }

        handle = IntPtr.Zero;
        return false;
    }
}
