using System.Diagnostics;
using System.Diagnostics.Metrics;
using StreamSeq.Kafka.Telemetry;

namespace StreamSeq.Kafka.Transport;

/// <summary>The transport's instruments (meter <see cref="MeterName"/>) and its activity source for traces per batch.</summary>
public sealed class KafkaTransportMetrics : IDisposable
{
    /// <summary>Meter and activity source name.</summary>
    public const string MeterName = "StreamSeq.Kafka";

    private readonly Meter meter;
    private readonly Counter<long> consumed;
    private readonly Counter<long> produced;
    private readonly Counter<long> commits;
    private readonly Counter<long> aborts;
    private readonly Counter<long> restoredStreams;
    private readonly Counter<long> statesTooLarge;
    private readonly Counter<long> movedStreams;
    private readonly Histogram<double> commitDuration;
    private readonly Histogram<double> restoreDuration;
    private readonly Lock trackedGate = new();
    private WorkerStatus[] tracked = [];

    /// <summary>Creates the instruments.</summary>
    public KafkaTransportMetrics(IMeterFactory? meterFactory = null)
    {
        meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        consumed = meter.CreateCounter<long>("streamseq.kafka.consumed", "{record}", "Input records consumed, by topic.");
        produced = meter.CreateCounter<long>("streamseq.kafka.produced", "{record}", "Records produced (outputs, dead letters, changelog), by topic.");
        commits = meter.CreateCounter<long>("streamseq.kafka.transactions.committed", "{transaction}", "Transactions committed.");
        aborts = meter.CreateCounter<long>("streamseq.kafka.transactions.aborted", "{transaction}", "Transactions aborted (state rewound to the changelog).");
        restoredStreams = meter.CreateCounter<long>("streamseq.streams.restored", "{stream}", "Streams restored at an assignment: from the changelog, or found in the local disk store.");
        statesTooLarge = meter.CreateCounter<long>("streamseq.kafka.states.too_large", "{record}", "Stream states not written to the changelog because they exceed the producer's message.max.bytes.");
        movedStreams = meter.CreateCounter<long>("streamseq.streams.moved", "{stream}", "Streams whose records arrived on another input partition than the one holding their state (the input topic's partition count changed), their state taken over by the new partition.");
        commitDuration = meter.CreateHistogram<double>(
            "streamseq.kafka.commit.duration",
            "s",
            "Time to write the changelog and commit a transaction.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        restoreDuration = meter.CreateHistogram<double>(
            "streamseq.kafka.restore.duration",
            "s",
            "Time to restore the state of the partitions an assignment gave, from the changelog.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] });
        commits.Add(0);
        aborts.Add(0);
        restoredStreams.Add(0);
        statesTooLarge.Add(0);
        movedStreams.Add(0);
        meter.CreateObservableGauge("streamseq.kafka.consumer.lag", () => Observe(s => s.Lag), "{record}", "Input records not yet committed over the owned partitions (high watermark minus the committed position, measured twice a second), and all records of assigned partitions waiting for their changelog partition.");
        meter.CreateObservableGauge("streamseq.streams.live", () => Observe(s => s.LiveStreams), "{stream}", "Live streams over the owned partitions (updated at each commit and restore).");
        meter.CreateObservableGauge("streamseq.streams.evicted", () => Observe(s => s.EvictedStreams), "{stream}", "Streams of the owned partitions kept only in serialised form beyond MaxLiveStreams.");
        meter.CreateObservableGauge("streamseq.kafka.partitions.assigned", () => Observe(s => s.Partitions.Count), "{partition}", "Input partitions owned.");
        meter.CreateObservableGauge("streamseq.kafka.consumer.lag.awaiting_changelog", () => Observe(s => s.AwaitingChangelogLag), "{record}", "The part of streamseq.kafka.consumer.lag in assigned partitions waiting for their changelog partition: no commit can take these records before the changelog grows.");
        meter.CreateObservableGauge("streamseq.kafka.partitions.awaiting_changelog", () => Observe(s => s.AwaitingChangelog.Count), "{partition}", "Input partitions assigned but waiting unprocessed because the changelog topic has no partition for them (add partitions to the changelog).");
        ClientStatistics = new LibrdkafkaStatistics(meter);
    }

    /// <summary>librdkafka's statistics of the loop's clients, exported on this meter.</summary>
    public LibrdkafkaStatistics ClientStatistics { get; }

    /// <summary>Traces: one activity per committed batch and per partition restore.</summary>
    public static ActivitySource ActivitySource { get; } = new(MeterName);

    /// <summary>The meter (hosts add observable gauges to it).</summary>
    public Meter Meter => meter;

    /// <summary>
    /// Exports a loop's status through the observable gauges (consumer lag, live streams, owned partitions); the
    /// values of every tracked loop are summed. Dispose the result to stop.
    /// </summary>
    public IDisposable Track(WorkerStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        lock (trackedGate)
        {
            tracked = [.. tracked, status];
        }

        return new Tracking(this, status);
    }

    /// <summary>Counts consumed records.</summary>
    public void Consumed(string topic, long count = 1) => consumed.Add(count, new KeyValuePair<string, object?>("topic", topic));

    /// <summary>Counts records produced to <paramref name="topic"/> (the topic's name) in a committed transaction.</summary>
    public void Produced(string topic, long count) => produced.Add(count, new KeyValuePair<string, object?>("topic", topic));

    /// <summary>Records a committed transaction and how long its commit took, in seconds.</summary>
    public void Committed(double seconds)
    {
        commits.Add(1);
        commitDuration.Record(seconds);
    }

    /// <summary>Records an aborted transaction.</summary>
    public void Aborted() => aborts.Add(1);

    /// <summary>Counts a stream state too large to write to the changelog.</summary>
    public void StateTooLarge() => statesTooLarge.Add(1);

    /// <summary>Counts a stream whose state moved to the input partition its records now arrive on.</summary>
    public void StreamMoved() => movedStreams.Add(1);

    /// <summary>Records a restore.</summary>
    public void Restored(long streams, double seconds)
    {
        restoredStreams.Add(streams);
        restoreDuration.Record(seconds);
    }

    /// <inheritdoc />
    public void Dispose() => meter.Dispose();

    private IEnumerable<Measurement<long>> Observe(Func<WorkerStatus, long> read)
    {
        var current = Volatile.Read(ref tracked);
        if (current.Length == 0)
        {
            return [];
        }

        long sum = 0;
        foreach (var status in current)
        {
            sum += read(status);
        }

        return [new Measurement<long>(sum)];
    }

    private void Untrack(WorkerStatus status)
    {
        lock (trackedGate)
        {
            tracked = [.. tracked.Where(s => !ReferenceEquals(s, status))];
        }
    }

    private sealed class Tracking(KafkaTransportMetrics owner, WorkerStatus status) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
            {
                owner.Untrack(status);
            }
        }
    }
}
