using System.Net;
using System.Net.Sockets;

namespace StreamSeq.Kafka.Embedded;

/// <summary>
/// Listens on a chosen loopback port and relays every connection, byte for byte, to another loopback port: how a mock
/// broker, whose own listener always takes a random port, is reached at a port the user picked.
/// </summary>
internal sealed class LoopbackForwarder : IDisposable
{
    private readonly TcpListener listener;
    private readonly int target;
    private readonly CancellationTokenSource stopping = new();
    private readonly List<TcpClient> connections = [];
    private readonly Lock gate = new();
    private readonly Task accepting;

    /// <summary>Starts listening on 127.0.0.1:<paramref name="port"/>.</summary>
    /// <exception cref="SocketException">The port cannot be taken (in use, or not allowed).</exception>
    public LoopbackForwarder(int port, int target)
    {
        this.target = target;
        listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        accepting = AcceptAsync();
    }

    /// <summary>The port listened on.</summary>
    public int Port { get; }

    public void Dispose()
    {
        stopping.Cancel();
        listener.Stop();
        lock (gate)
        {
            foreach (var c in connections)
            {
                c.Dispose();
            }

            connections.Clear();
        }

        try
        {
            accepting.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        var upstream = new TcpClient { NoDelay = true };
        client.NoDelay = true;
        lock (gate)
        {
            connections.Add(client);
            connections.Add(upstream);
        }

        Task[] copies = [];
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, target, stopping.Token).ConfigureAwait(false);
            var down = client.GetStream();
            var up = upstream.GetStream();
            copies = [down.CopyToAsync(up, stopping.Token), up.CopyToAsync(down, stopping.Token)];

            // Either side closing ends the pair, as a direct connection would end.
            await Task.WhenAny(copies).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            lock (gate)
            {
                connections.Remove(client);
                connections.Remove(upstream);
            }

            client.Dispose();
            upstream.Dispose();
        }

        try
        {
            await Task.WhenAll(copies).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The other direction ends when its sockets close.
        }
    }
}
