using StreamSeq.Estimation.Smoothing;
using StreamSeq.Processing.Anomaly;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.State;

/// <summary>
/// Everything the processor keeps for one stream: the estimator's state buffer plus event-time bookkeeping,
/// the alert gate and the allowed-lateness buffer. Serialised whole to the changelog by
/// <see cref="StreamStateCodec"/>, so a restored stream continues bit for bit.
/// </summary>
public sealed class StreamState
{
    /// <summary>Creates a fresh stream initialised from its model's prior.</summary>
    public StreamState(string streamId, ModelBinding model, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        StreamId = streamId;
        Model = model;
        Seed = seed;
        Buffer = new double[model.Estimator is FixedLagSmoother lagged ? lagged.StateLengthFor(0) : model.Estimator.Info.StateLength];
        model.Estimator.Initialize(Buffer, seed);
        Gate = AlertGateState.Initial;
        LastModelTime = double.NaN;
        MaxSeenModelTime = double.NaN;
    }

    /// <summary>The stream id.</summary>
    public string StreamId { get; }

    /// <summary>The stream's model.</summary>
    public ModelBinding Model { get; }

    /// <summary>The per-stream seed (from stream id and model seed).</summary>
    public ulong Seed { get; }

    /// <summary>
    /// The estimator's state: its leading part while a fixed-lag smoother's window is still filling (the rest would be
    /// zeros), grown by <see cref="Reserve"/> up to the model's full state length.
    /// </summary>
    public double[] Buffer { get; private set; }

    /// <summary>Grows <see cref="Buffer"/> to hold at least <paramref name="length"/> numbers (doubling, at most the model's state length).</summary>
    public void Reserve(int length)
    {
        if (Buffer.Length >= length)
        {
            return;
        }

        var grown = new double[Math.Min(Model.Estimator.Info.StateLength, Math.Max(length, Buffer.Length * 2))];
        Buffer.CopyTo(grown, 0);
        Buffer = grown;
    }

    /// <summary>Grows <see cref="Buffer"/> to what the next step needs (only fixed-lag smoothers need more as a stream grows).</summary>
    public void ReserveForNextStep()
    {
        if (Model.Estimator is FixedLagSmoother lagged)
        {
            Reserve(lagged.StateLengthFor(Steps));
        }
    }

    /// <summary>Time of the last processed observation.</summary>
    public RecordTime LastTime { get; set; }

    /// <summary>Model time of the last processed observation (NaN before the first).</summary>
    public double LastModelTime { get; set; }

    /// <summary>
    /// A fingerprint of the last processed observation's values and control input (0: unknown), so a second reading
    /// at the same time is told apart: an exact repeat is a duplicate, different values are a conflict.
    /// </summary>
    public ulong LastFingerprint { get; set; }

    /// <summary>Largest model time seen, processed or pending (the watermark is this minus the allowed lateness).</summary>
    public double MaxSeenModelTime { get; set; }

    /// <summary>Observations processed.</summary>
    public long Steps { get; set; }

    /// <summary>Alert gate state.</summary>
#pragma warning disable CA1051 // a mutable struct field, advanced in place by AlertGate.Step(ref ...)
    public AlertGateState Gate;
#pragma warning restore CA1051

    /// <summary>Observations waiting for the watermark, oldest first (null when empty).</summary>
    public List<PendingObservation>? Pending { get; set; }

    /// <summary>Forward records and times of every step, kept only for fixed-interval smoothing of a finished file.</summary>
    public List<(RecordTime Time, double[] Record)>? History { get; set; }

    /// <summary>
    /// Indices into <see cref="History"/> where a stretch after a re-initialisation begins (null when none): each
    /// stretch is smoothed on its own, since the filter restarted from the prior between them.
    /// </summary>
    public List<int>? HistoryRestarts { get; set; }

    /// <summary>True when changed since the last changelog write.</summary>
    public bool Dirty { get; set; }

    /// <summary>A counter value of the last access (least recently used streams are evicted first).</summary>
    public long LastTouched { get; set; }

    /// <summary>The more recently used neighbour in its store's recency list.</summary>
    internal StreamState? Newer { get; set; }

    /// <summary>The less recently used neighbour in its store's recency list.</summary>
    internal StreamState? Older { get; set; }

    /// <summary>What its store counts it for in memory (bytes, an estimate).</summary>
    internal long CountedBytes { get; set; }
}
