using System.Net;
using System.Net.Sockets;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>
/// A temporary folder for a test's files and processes' logs, removed (as far as possible) on dispose, or kept when
/// STREAMSEQ_TEST_KEEP_SCRATCH is set (worker process logs and disk stores, to diagnose a failed run).
/// </summary>
internal sealed class Scratch : IDisposable
{
    public Scratch(string prefix) => Directory = System.IO.Directory.CreateTempSubdirectory(prefix).FullName;

    public string Directory { get; }

    /// <summary>A path inside the folder.</summary>
    public string File(string name) => Path.Combine(Directory, name);

    /// <summary>A loopback port that is free now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// A loopback port held until the returned socket is disposed: bound but not listening, so connections to it are
    /// refused as to a closed port, while no other socket (another test's listener, or a client's connection taking
    /// it as its source port) can have it meanwhile. For a test that picks a port long before something listens there.
    /// </summary>
    public static Socket ReservePort()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("STREAMSEQ_TEST_KEEP_SCRATCH") is { Length: > 0 })
        {
            return;
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A process killed a moment ago may still hold a log file open; the system cleans its temp folder later.
        }
    }
}
