using System.ComponentModel.DataAnnotations;

namespace StreamSeq.Worker.Configuration;

/// <summary>
/// The live dashboard (section <c>StreamSeq:Dashboard</c>): a web page on the worker's port showing streams,
/// estimates and anomalies, fed from the processing loop without ever slowing it.
/// </summary>
public sealed class DashboardSettings
{
    /// <summary>The configuration section.</summary>
    public const string Section = "StreamSeq:Dashboard";

    /// <summary>Serve the dashboard. Unset: on with the embedded broker, off against a configured Kafka cluster.</summary>
    public bool? Enabled { get; set; }

    /// <summary>Points of each series kept per stream for new page loads (observations, filtered, smoothed).</summary>
    [Range(10, 100_000)]
    public int History { get; set; } = 720;

    /// <summary>Streams tracked at once; beyond it the least recently updated stream nobody watches is dropped.</summary>
    [Range(1, 1_000_000)]
    public int MaxStreams { get; set; } = 1000;

    /// <summary>
    /// Pages open on streams the worker has not seen (yet), waiting for their first record without taking an entry;
    /// beyond it a page is refused with 503 and retries.
    /// </summary>
    [Range(0, 100_000)]
    public int MaxWaitingPages { get; set; } = 100;

    /// <summary>
    /// Live feeds open at once: the pages' server-sent event connections (<c>/api/dashboard/events</c> and
    /// <c>/api/dashboard/stream/events</c>), each holding a buffer and a task; beyond it a new one is refused with 503
    /// and retries.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxLiveFeeds { get; set; } = 100;

    /// <summary>
    /// The longest one event of a live feed may take to be written and flushed to its connection. A page that stops
    /// reading (its TCP receive window full) would otherwise hold its slot for many minutes: Kestrel's own
    /// <c>MinResponseDataRate</c> only ends it once the bytes already buffered for it could have been sent at 240 B/s.
    /// Beyond it the connection is aborted, its slot comes back and the drop is counted (<c>slowFeeds</c>).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan FeedWriteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Records waiting between the processing loop and the dashboard; when full the oldest are dropped and counted.</summary>
    [Range(16, 10_000_000)]
    public int IngestQueue { get; set; } = 65_536;

    /// <summary>
    /// Bytes of records waiting between the processing loop and the dashboard (each waiting record holds a copy of its
    /// Kafka value); a record that would take the queue beyond it is dropped and counted, whatever <see cref="IngestQueue"/>.
    /// </summary>
    [Range(1L << 20, 1L << 36)]
    public long IngestQueueBytes { get; set; } = 64L << 20;

    /// <summary>Updates buffered per connected browser; a browser that falls behind loses the oldest (counted and shown).</summary>
    [Range(16, 1_000_000)]
    public int ClientBuffer { get; set; } = 2048;

    /// <summary>How often pages receive updates.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan PushInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Whether the dashboard is on, given whether the embedded broker is used.</summary>
    public bool IsEnabled(bool embeddedBroker) => Enabled ?? embeddedBroker;
}
