using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.Views;
using StreamSeq.Worker.Configuration;
using StreamSeq.Worker.Hosting;

namespace StreamSeq.Worker.Dashboard;

/// <summary>
/// Feeds the dashboard from the processing loop. The taps' observers only copy a record into a bounded queue
/// (dropping and counting the oldest when the dashboard falls behind; a dropped revocation is kept aside and applied
/// in its place, since no later record would bring that news again); this service drains the queue on its own
/// thread, reads each record into chart terms, keeps each stream's bounded history and offers updates to the
/// browsers watching that stream.
/// </summary>
public sealed partial class DashboardFeed : BackgroundService
{
    private readonly Channel<IngestItem> queue;
    private readonly ConcurrentDictionary<string, StreamView> views = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (ModelBinding Binding, ObservationProjection? Projection)> models;
    private readonly ChartRecordReader reader;
    private readonly InputRecordDecoder decoder = new(numericTimeFormat: TimeFormat.EpochMilliseconds);
    private readonly DashboardSettings settings;
    private readonly DashboardMetrics metrics;
    private readonly TimeProvider time;
    private readonly ILogger<DashboardFeed> logger;
    private readonly IDisposable outputSubscription;
    private readonly IDisposable inputSubscription;
    private readonly IDisposable? ownershipSubscription;
    private readonly ConcurrentQueue<int[]> droppedReleases = new();
    private readonly Queue<AnomalyMark> recentAnomalies = new();
    private readonly Lock recentGate = new();
    private readonly Dictionary<string, List<DashboardClient>> waiting = new(StringComparer.Ordinal);
    private readonly Lock waitingGate = new();
    private int waitingPages;
    private long ingestDropped;
    private long queuedBytes;
    private long received;
    private long failed;
    private long unreadable;
    private long evicted;
    private int clients;
    private int liveFeeds;
    private long slowFeedsDropped;

    /// <summary>
    /// Subscribes to the taps (so no record of the loop is missed, nor a stream a restored partition holds) and prepares
    /// the models' projections.
    /// </summary>
    public DashboardFeed(OutputTap outputs, InputTap inputs, ModelRouter router, IOptions<DashboardSettings> settings, DashboardMetrics metrics, TimeProvider time, ILogger<DashboardFeed> logger, OwnershipTap? ownership = null)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(router);
        ArgumentNullException.ThrowIfNull(settings);
        this.settings = settings.Value;
        this.metrics = metrics;
        this.time = time;
        this.logger = logger;
        models = router.Models.Values.ToDictionary(b => b.Name, b => (b, ObservationProjection.For(b.Estimator)), StringComparer.Ordinal);
        reader = new ChartRecordReader(name => models.TryGetValue(name, out var m) ? m.Projection : null, numericTimesAreDates: true);
        queue = Channel.CreateBounded<IngestItem>(
            new BoundedChannelOptions(this.settings.IngestQueue) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = false },
            dropped =>
            {
                if (dropped.Released is { } released)
                {
                    // Dropped at the head of the queue, so it is the next news the feed would have read: the feed
                    // applies it before its next item. It is not a lost record.
                    droppedReleases.Enqueue(released);
                    return;
                }

                Interlocked.Add(ref queuedBytes, -dropped.Bytes.Length);
                CountDropped();
            });
        outputSubscription = outputs.Subscribe((kind, stream, bytes) => Enqueue(new IngestItem(false, kind, stream, bytes, double.NaN)));
        inputSubscription = inputs.Subscribe((stream, bytes, timestamp, partition) => Enqueue(new IngestItem(true, default, stream, bytes, timestamp, partition)));
        ownershipSubscription = ownership?.Subscribe(new OwnershipObserver(this));
    }

    /// <summary>Records skipped because the dashboard fell behind the loop.</summary>
    public long IngestDropped => Interlocked.Read(ref ingestDropped);

    /// <summary>Records read so far.</summary>
    public long Received => Interlocked.Read(ref received);

    /// <summary>Records that could not be read (counted, never shown).</summary>
    public long Unreadable => Interlocked.Read(ref unreadable);

    /// <summary>
    /// Records whose reading failed unexpectedly (a defect of the dashboard, logged with its exception): the stream's
    /// view is dropped and rebuilt from its next records, and the feed, like the processing loop, goes on.
    /// </summary>
    public long Failed => Interlocked.Read(ref failed);

    /// <summary>Bytes of the records waiting to be read, at most <see cref="DashboardSettings.IngestQueueBytes"/>.</summary>
    public long QueuedBytes => Interlocked.Read(ref queuedBytes);

    /// <summary>Streams forgotten to stay within <see cref="DashboardSettings.MaxStreams"/>.</summary>
    public long Evicted => Interlocked.Read(ref evicted);

    /// <summary>Connected stream pages.</summary>
    public int Clients => Volatile.Read(ref clients);

    /// <summary>Tracked streams.</summary>
    public int StreamCount => views.Count;

    /// <summary>Connected pages waiting for a stream the worker has not seen (yet).</summary>
    public int WaitingPages => Volatile.Read(ref waitingPages);

    /// <summary>Open live feeds (server-sent event connections), at most <see cref="DashboardSettings.MaxLiveFeeds"/>.</summary>
    public int LiveFeeds => Volatile.Read(ref liveFeeds);

    /// <summary>
    /// Live feeds ended because one event was not taken within <see cref="DashboardSettings.FeedWriteTimeout"/> (the
    /// client stopped reading): their connections were aborted and their slots given back.
    /// </summary>
    public long SlowFeedsDropped => Interlocked.Read(ref slowFeedsDropped);

    internal IEnumerable<StreamView> Streams => views.Values;

    internal bool TryGet(string id, out StreamView view) => views.TryGetValue(id, out view!);

    /// <summary>The most recent anomalies of all streams, newest first.</summary>
    internal IReadOnlyList<AnomalyMark> RecentAnomalies()
    {
        lock (recentGate)
        {
            return [.. recentAnomalies.Reverse()];
        }
    }

    /// <summary>
    /// Registers a browser watching <paramref name="stream"/>; dispose it when the page goes away. Null when the
    /// stream is unknown and <see cref="DashboardSettings.MaxWaitingPages"/> pages already wait for unknown streams.
    /// </summary>
    /// <remarks>
    /// Only records of the worker's own streams create entries: a page for an id the worker has not seen waits in a
    /// bounded list, without an entry of its own, and is attached (before the stream's first record is applied) if
    /// the stream appears. So pages asking for arbitrary ids can neither evict real streams nor grow the dashboard.
    /// </remarks>
    internal DashboardClient? Subscribe(string stream)
    {
        var client = new DashboardClient(stream, settings.ClientBuffer, metrics, Unsubscribe);
        lock (waitingGate)
        {
            if (views.TryGetValue(stream, out var view))
            {
                Attach(client, view);
            }
            else if (waitingPages < settings.MaxWaitingPages)
            {
                if (!waiting.TryGetValue(stream, out var list))
                {
                    waiting[stream] = list = [];
                }

                list.Add(client);
                waitingPages++;
            }
            else
            {
                return null;
            }
        }

        Interlocked.Increment(ref clients);
        metrics.ClientConnected(1);
        return client;
    }

    /// <summary>
    /// Takes one of the <see cref="DashboardSettings.MaxLiveFeeds"/> live-feed slots for a connection; null when all are
    /// taken. Disposing the slot gives it back (once, however often it is disposed).
    /// </summary>
    internal IDisposable? OpenLiveFeed()
    {
        while (true)
        {
            var open = Volatile.Read(ref liveFeeds);
            if (open >= settings.MaxLiveFeeds)
            {
                return null;
            }

            if (Interlocked.CompareExchange(ref liveFeeds, open + 1, open) == open)
            {
                return new LiveFeedSlot(this);
            }
        }
    }

    /// <summary>
    /// Counts and logs a live feed ended because its client did not take an event within
    /// <see cref="DashboardSettings.FeedWriteTimeout"/> (once per connection: the first of the process at information
    /// level, later ones at debug level, all counted).
    /// </summary>
    internal void LiveFeedTooSlow(string path, string? remote)
    {
        metrics.SlowFeedDropped();
        if (Interlocked.Increment(ref slowFeedsDropped) == 1)
        {
            LogFirstSlowFeed(logger, path, remote ?? "?", settings.FeedWriteTimeout);
        }
        else
        {
            LogSlowFeed(logger, path, remote ?? "?", settings.FeedWriteTimeout);
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        outputSubscription.Dispose();
        inputSubscription.Dispose();
        ownershipSubscription?.Dispose();
        base.Dispose();
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogStarted(logger, settings.History, settings.MaxStreams, settings.ClientBuffer);
        try
        {
            await foreach (var item in queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                while (droppedReleases.TryDequeue(out var released))
                {
                    Apply(new IngestItem(false, default, string.Empty, [], double.NaN, Released: released));
                }

                Interlocked.Add(ref queuedBytes, -item.Bytes.Length);
                Apply(item);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Reads one record into the stream's view (the feed thread; exposed for tests).</summary>
    internal void Apply(in IngestItem item)
    {
        if (item.Restored is null && item.Released is null)
        {
            Interlocked.Increment(ref received);
        }

        try
        {
            var now = time.GetTimestamp();
            if (item.Released is { } released)
            {
                Release(released);
                return;
            }

            if (item.Restored is { } owned)
            {
                var restored = View(owned.Id, now);
                restored.Partition = owned.Partition;
                if (restored.Model != owned.Model && models.TryGetValue(owned.Model, out var binding))
                {
                    var facts = binding.Binding.Estimator.Info;
                    restored.Describe(owned.Model, facts.Family, binding.Binding.Lag, binding.Binding.Horizon, facts.ObservationDimension, binding.Projection is not null);
                }

                restored.Restore(owned.Steps, owned.LastTime.Value, owned.Anomalies);
                return;
            }

            if (item.IsInput)
            {
                if (decoder.TryDecode(item.Bytes, item.Stream, item.Timestamp, new SourcePosition("dashboard", 0, 0), out var record, out _, out _))
                {
                    var observed = View(item.Stream, now);
                    if (item.Partition >= 0)
                    {
                        observed.Partition = item.Partition;
                    }

                    observed.AddObservation(record.Time.Value, record.Values, now);
                }
                else
                {
                    Interlocked.Increment(ref unreadable);
                }

                return;
            }

            var chart = reader.Read(item.Bytes);
            var view = View(chart.Stream, now);
            if (view.Model != chart.Model && models.TryGetValue(chart.Model, out var model))
            {
                var info = model.Binding.Estimator.Info;
                view.Describe(chart.Model, info.Family, model.Binding.Lag, model.Binding.Horizon, info.ObservationDimension, model.Projection is not null);
            }

            if (view.Apply(chart, now) is { } mark)
            {
                lock (recentGate)
                {
                    recentAnomalies.Enqueue(mark);
                    while (recentAnomalies.Count > 50)
                    {
                        recentAnomalies.Dequeue();
                    }
                }
            }
        }
        catch (FormatException e)
        {
            if (Interlocked.Increment(ref unreadable) == 1)
            {
                LogUnreadable(logger, item.Stream, e.Message);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The dashboard only shows what the loop did: a failure of its own must not stop the worker's host (as an
            // exception out of this background service would). The stream's view may be half updated, so it goes.
            views.TryRemove(item.Stream, out _);
            if (Interlocked.Increment(ref failed) == 1)
            {
                LogFailed(logger, e, item.Stream);
            }
        }
    }

    /// <summary>
    /// Queues a record from a tap, on the loop's thread: never waits. Beyond <see cref="DashboardSettings.IngestQueue"/>
    /// records the oldest is dropped; a record that would take the waiting bytes beyond
    /// <see cref="DashboardSettings.IngestQueueBytes"/> is dropped itself. Both are counted.
    /// </summary>
    private void Enqueue(IngestItem item)
    {
        var size = item.Bytes.Length;
        if (Interlocked.Add(ref queuedBytes, size) > settings.IngestQueueBytes)
        {
            Interlocked.Add(ref queuedBytes, -size);
            CountDropped();
            return;
        }

        if (!queue.Writer.TryWrite(item))
        {
            // Only after the feed stopped: nothing will read it.
            Interlocked.Add(ref queuedBytes, -size);
        }
    }

    private void CountDropped()
    {
        Interlocked.Increment(ref ingestDropped);
        metrics.IngestDropped();
    }

    /// <summary>The status block of the stream list.</summary>
    internal void WriteStatus(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteNumber("streams", StreamCount);
        json.WriteNumber("maxStreams", settings.MaxStreams);
        json.WriteNumber("received", Received);
        json.WriteNumber("ingestDropped", IngestDropped);
        json.WriteNumber("unreadable", Unreadable);
        json.WriteNumber("failed", Failed);
        json.WriteNumber("evicted", Evicted);
        json.WriteNumber("clients", Clients);
        json.WriteNumber("waitingPages", WaitingPages);
        json.WriteNumber("liveFeeds", LiveFeeds);
        json.WriteNumber("maxLiveFeeds", settings.MaxLiveFeeds);
        json.WriteNumber("slowFeedsDropped", SlowFeedsDropped);
        json.WriteNumber("history", settings.History);
        json.WriteEndObject();
    }

    private StreamView View(string id, long now)
    {
        if (views.TryGetValue(id, out var view))
        {
            return view;
        }

        view = views.GetOrAdd(id, key => new StreamView(key, settings.History, now));
        lock (waitingGate)
        {
            // Pages that waited for this stream watch it from its first record on.
            if (waiting.Remove(id, out var pages))
            {
                foreach (var page in pages)
                {
                    Attach(page, view);
                }

                waitingPages -= pages.Count;
            }

            // Under the same lock as attaching pages: a stream somebody watches is never the one forgotten.
            if (views.Count > settings.MaxStreams)
            {
                Evict(keep: id);
            }
        }

        return view;
    }

    private static void Attach(DashboardClient client, StreamView view)
    {
        client.View = view;
        view.AddClient(client);
    }

    private void Unsubscribe(DashboardClient client)
    {
        lock (waitingGate)
        {
            if (client.View is { } view)
            {
                view.RemoveClient(client);
            }
            else if (waiting.TryGetValue(client.Stream, out var list) && list.Remove(client))
            {
                waitingPages--;
                if (list.Count == 0)
                {
                    waiting.Remove(client.Stream);
                }
            }
        }

        Interlocked.Decrement(ref clients);
        metrics.ClientConnected(-1);
    }

    /// <summary>
    /// Forgets the streams of partitions the worker gave up (revoked in a rebalance, lost, or closed at the stop): they are
    /// no longer its streams. Pages watching one wait for it again, as for a stream not seen yet.
    /// </summary>
    private void Release(int[] partitions)
    {
        lock (waitingGate)
        {
            foreach (var view in views.Values)
            {
                if (view.Partition < 0 || Array.IndexOf(partitions, view.Partition) < 0 || !views.TryRemove(view.Id, out _))
                {
                    continue;
                }

                var pages = view.DetachClients();
                if (pages.Length == 0)
                {
                    continue;
                }

                if (!waiting.TryGetValue(view.Id, out var list))
                {
                    waiting[view.Id] = list = [];
                }

                foreach (var page in pages)
                {
                    page.View = null;
                    list.Add(page);
                }

                waitingPages += pages.Length;
            }
        }
    }

    private void Evict(string keep)
    {
        StreamView? oldest = null;
        foreach (var v in views.Values)
        {
            if (v.Id != keep && v.ClientCount == 0 && (oldest is null || v.LastUpdate < oldest.LastUpdate))
            {
                oldest = v;
            }
        }

        if (oldest is not null && views.TryRemove(oldest.Id, out _))
        {
            Interlocked.Increment(ref evicted);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Dashboard on: {History} points per series, up to {MaxStreams} streams, {ClientBuffer} buffered updates per page")]
    private static partial void LogStarted(ILogger logger, int history, int maxStreams, int clientBuffer);

    [LoggerMessage(Level = LogLevel.Error, Message = "Dashboard failed on a record of stream {Stream}; its view is dropped and processing goes on (further failures are only counted)")]
    private static partial void LogFailed(ILogger logger, Exception exception, string stream);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard could not read a record of stream {Stream} (further ones are only counted): {Problem}")]
    private static partial void LogUnreadable(ILogger logger, string stream, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dashboard live feed {Path} to {Remote} dropped: an event was not taken within {Timeout} (the client stopped reading); further ones are logged at debug level and counted as slowFeedsDropped")]
    private static partial void LogFirstSlowFeed(ILogger logger, string path, string remote, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dashboard live feed {Path} to {Remote} dropped: an event was not taken within {Timeout} (the client stopped reading)")]
    private static partial void LogSlowFeed(ILogger logger, string path, string remote, TimeSpan timeout);

    /// <summary>Queues the loop's news of owned streams behind the records before it, on the loop's thread.</summary>
    private sealed class OwnershipObserver(DashboardFeed feed) : IStreamOwnershipObserver
    {
        public int MaxStreamsPerPartition => feed.settings.MaxStreams;

        public void Restored(int partition, IReadOnlyList<OwnedStream> streams)
        {
            foreach (var s in streams)
            {
                feed.Enqueue(new IngestItem(false, default, s.Id, [], double.NaN, partition, s));
            }
        }

        public void Released(IReadOnlyCollection<int> partitions) =>
            feed.Enqueue(new IngestItem(false, default, string.Empty, [], double.NaN, Released: [.. partitions]));
    }

    /// <summary>A taken live-feed slot; disposing it gives it back once.</summary>
    private sealed class LiveFeedSlot(DashboardFeed feed) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                Interlocked.Decrement(ref feed.liveFeeds);
            }
        }
    }
}
