using System.Threading.Channels;

namespace StreamSeq.Worker.Dashboard;

/// <summary>
/// One connected browser: a bounded buffer of pending updates that the feed fills without waiting and the page's
/// event stream drains. When the browser falls behind, the oldest updates are dropped and counted, so a slow client
/// only ever loses its own updates and never slows the worker.
/// </summary>
internal sealed class DashboardClient : IDisposable
{
    private readonly Channel<string> updates;
    private readonly Action<DashboardClient> onDispose;
    private readonly DashboardMetrics metrics;
    private long dropped;

    public DashboardClient(string stream, int capacity, DashboardMetrics metrics, Action<DashboardClient> onDispose)
    {
        Stream = stream;
        this.metrics = metrics;
        this.onDispose = onDispose;
        updates = Channel.CreateBounded<string>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = false },
            _ =>
            {
                Interlocked.Increment(ref dropped);
                metrics.ClientDropped();
            });
    }

    public string Stream { get; }

    /// <summary>The stream this page watches, once the worker has seen it (null while the page waits for it).</summary>
    public StreamView? View { get; set; }

    /// <summary>Updates this client lost because it fell behind.</summary>
    public long Dropped => Interlocked.Read(ref dropped);

    public ChannelReader<string> Reader => updates.Reader;

    /// <summary>Queues an update; never blocks (a full buffer drops its oldest entry).</summary>
    public void Offer(string update) => updates.Writer.TryWrite(update);

    public void Dispose()
    {
        updates.Writer.TryComplete();
        onDispose(this);
    }
}
