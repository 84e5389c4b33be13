using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace StreamSeq.Kafka.Native;

/// <summary>
/// Makes sure Confluent.Kafka and StreamSeq's own native calls use one librdkafka build that actually loads on
/// this machine.
/// </summary>
/// <remarks>
/// <para>
/// The librdkafka.redist package ships several Linux builds next to each other in
/// <c>runtimes/&lt;rid&gt;/native/</c>: <c>librdkafka.so</c> (needs <c>libsasl2.so.3</c>, absent from a plain
/// Debian 12), <c>centos8-librdkafka.so</c> (no SASL/GSSAPI dependency) and <c>alpine-librdkafka.so</c> (musl).
/// <see cref="EnsureLoaded"/> picks the first of them that the dynamic loader accepts, in that order, looking in
/// the host's native search directories (the build output's or the NuGet cache's <c>runtimes/&lt;rid&gt;/native</c>),
/// in the application folder (a RID-specific publish) and next to Confluent.Kafka.dll; a system-wide
/// <c>librdkafka.so.1</c> is the last resort. The environment variable <see cref="PathVariable"/> overrides the
/// search with an explicit file.
/// </para>
/// <para>
/// It then installs DllImport resolvers so that Confluent.Kafka (whose own loader tries the same names but calls
/// <c>dlopen</c> through the unversioned <c>libdl</c>, which Debian 12 does not have) and this assembly bind to
/// that very file, and calls <see cref="Library.Load(string)"/> before any client exists. Nothing here changes
/// client behaviour: against a real cluster the same call is harmless and only fixes which file is loaded.
/// </para>
/// <para>
/// This class owns the DllImport resolver of the StreamSeq.Kafka assembly; other native bindings in this
/// assembly should import <c>"librdkafka"</c> and call <see cref="EnsureLoaded"/> first.
/// </para>
/// </remarks>
public static class KafkaNative
{
    /// <summary>Environment variable that names an explicit librdkafka file to load instead of searching.</summary>
    public const string PathVariable = "STREAMSEQ_LIBRDKAFKA_PATH";

    internal const string LibraryName = "librdkafka";

    private static readonly Lock Gate = new();
    private static string? loadedPath;
    private static IntPtr loadedHandle;
    private static bool resolversInstalled;
    private static bool confluentResolverInstalled;

    /// <summary>
    /// Full path (or loader name, for a system-wide library) of the librdkafka file in use, or <see langword="null"/>
    /// before <see cref="EnsureLoaded"/> has run.
    /// </summary>
    public static string? LoadedPath
    {
        get
        {
            lock (Gate)
            {
                return loadedPath;
            }
        }
    }

    /// <summary>
    /// Loads a working librdkafka once per process and binds Confluent.Kafka and StreamSeq to it. Idempotent and
    /// thread-safe; call it before creating the first Kafka client.
    /// </summary>
    /// <returns>The path of the loaded library (see <see cref="LoadedPath"/>).</returns>
    /// <exception cref="DllNotFoundException">No candidate file could be loaded; the message lists each one tried.</exception>
    public static string EnsureLoaded()
    {
        lock (Gate)
        {
            if (loadedPath is not null)
            {
                return loadedPath;
            }

            var (path, handle) = LibrdkafkaLocator.Load();
            loadedHandle = handle;
            if (!resolversInstalled)
            {
                NativeLibrary.SetDllImportResolver(typeof(KafkaNative).Assembly, ResolveOwn);
                confluentResolverInstalled = TryInstallConfluentResolver();
                resolversInstalled = true;
            }

            if (!Library.IsLoaded)
            {
                try
                {
                    Library.Load(path);
                }
                catch (Exception ex) when (confluentResolverInstalled && ex is InvalidOperationException or DllNotFoundException)
                {
                    // Confluent.Kafka's dlopen failed; with our resolver in place its own loader binds to the same file.
                    Library.Load();
                }
            }

            loadedPath = path;
            return path;
        }
    }

    private static bool TryInstallConfluentResolver()
    {
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(Library).Assembly, ResolveForConfluent);
            return true;
        }
        catch (InvalidOperationException)
        {
            // Somebody else already owns Confluent.Kafka's resolver; Library.Load(path) is then our only lever.
            return false;
        }
    }

    private static IntPtr ResolveOwn(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName == LibraryName ? loadedHandle : IntPtr.Zero;

    private static IntPtr ResolveForConfluent(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        switch (libraryName)
        {
            case LibraryName:
            case "centos8-librdkafka":
            case "alpine-librdkafka":
                return loadedHandle;
            case "libdl":
                // Confluent.Kafka imports dlopen from "libdl"; glibc only ships the versioned file (and, since 2.34,
                // dlopen lives in libc itself).
                if (NativeLibrary.TryLoad("libdl.so.2", out var dl) || NativeLibrary.TryLoad("libc.so.6", out dl))
                {
                    return dl;
                }

                return IntPtr.Zero;
            default:
                return IntPtr.Zero;
        }
    }
}
