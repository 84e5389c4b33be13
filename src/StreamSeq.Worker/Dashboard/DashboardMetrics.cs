using System.Diagnostics.Metrics;

namespace StreamSeq.Worker.Dashboard;

/// <summary>The dashboard's instruments (meter <c>StreamSeq.Dashboard</c>): what it dropped to keep the worker unhindered.</summary>
public sealed class DashboardMetrics
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "StreamSeq.Dashboard";

    private readonly Counter<long> ingestDropped;
    private readonly Counter<long> clientDropped;
    private readonly UpDownCounter<long> clients;
    private readonly Counter<long> slowFeedDropped;

    /// <summary>Creates the instruments.</summary>
    public DashboardMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        ingestDropped = meter.CreateCounter<long>("streamseq.dashboard.ingest.dropped", "{record}", "Records the dashboard skipped because it fell behind the processing loop.");
        clientDropped = meter.CreateCounter<long>("streamseq.dashboard.client.dropped", "{update}", "Updates dropped for browsers that fell behind.");
        clients = meter.CreateUpDownCounter<long>("streamseq.dashboard.clients", "{connection}", "Connected dashboard pages.");
        slowFeedDropped = meter.CreateCounter<long>("streamseq.dashboard.feed.dropped", "{connection}", "Live feeds aborted because their client did not take an event within FeedWriteTimeout.");
    }

    internal void IngestDropped() => ingestDropped.Add(1);

    internal void ClientDropped() => clientDropped.Add(1);

    internal void ClientConnected(int delta) => clients.Add(delta);

    internal void SlowFeedDropped() => slowFeedDropped.Add(1);
}
