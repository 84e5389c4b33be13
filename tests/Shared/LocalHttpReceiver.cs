using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StreamSeq.Testing;

/// <summary>
/// An HTTP endpoint on 127.0.0.1 and an ephemeral port (HttpListener), standing in for a webhook receiver such as
/// Alertmanager. Every request is recorded; <c>respond</c> decides each answer from the request's number (1 for the
/// first) and returns a status code, or null to hold the request open until the receiver is disposed (a hung peer).
/// Linked into the test projects that need it (tests/Shared).
/// </summary>
public sealed class LocalHttpReceiver : IDisposable
{
    private readonly HttpListener listener;
    private readonly Func<int, int?> respond;
    private readonly CancellationTokenSource closing = new();
    private readonly Task loop;
    private int count;

    public LocalHttpReceiver(Func<int, int?>? respond = null)
    {
        this.respond = respond ?? (_ => 200);
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort();
            listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                Port = port;
                break;
            }
            catch (HttpListenerException) when (attempt < 10)
            {
                listener.Close();
            }
        }

        loop = Task.Run(AcceptAsync);
    }

    /// <summary>One request as received.</summary>
    public sealed record Request(int Number, string Method, string Path, string? ContentType, string Body, int? Status);

    public int Port { get; }

    public Uri Url(string path) => new($"http://127.0.0.1:{Port}{path}");

    /// <summary>Requests received so far, in arrival order.</summary>
    public ConcurrentQueue<Request> Requests { get; } = new();

    public void Dispose()
    {
        closing.Cancel();
        listener.Close();
        try
        {
            loop.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
        }

        closing.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!closing.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var number = Interlocked.Increment(ref count);
        string body;
        using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync().ConfigureAwait(false);
        }

        var status = respond(number);
        Requests.Enqueue(new Request(number, context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.ContentType, body, status));
        if (status is null)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, closing.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            context.Response.Abort();
            return;
        }

        try
        {
            context.Response.StatusCode = status.Value;
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
        {
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
