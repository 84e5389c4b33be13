using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Processing.Anomaly;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Telemetry;

namespace StreamSeq.Processing.Processor;

/// <summary>
/// The processor: decode a keyed observation, fetch the stream's state (or create it from the routed model), order
/// it in event time, step the estimator, emit filtered, smoothed and forecast records, run the anomaly rules through
/// the alert gate, and mark the state for the changelog. The worker and the CLI both drive this class, so a replayed
/// file and a live stream give identical records.
/// </summary>
/// <remarks>
/// Event time: the gap passed to the estimator is the model-time difference to the stream's previous observation.
/// A record at exactly the stream's last time with the same values is a duplicate (dropped and counted), with other
/// values a conflicting duplicate (dead-lettered); an older one is too late (dead-lettered). A time that cannot be
/// written (or whose forecast times cannot) is dead-lettered as out of range, and with
/// <see cref="ProcessorOptions.MaxTimeSkew"/> a time too far ahead is dead-lettered before it can move the stream's
/// clock. No input value throws out of the processor. With <see cref="ProcessorOptions.AllowedLateness"/> set, records wait in the stream's buffer until
/// the stream's newest time minus the lateness passes them, so out-of-order arrivals within the bound are re-ordered.
/// One instance per thread; streams and their stores must not be shared between threads at the same time.
/// </remarks>
public sealed class StreamProcessor : IDisposable
{
    private readonly ModelRouter router;
    private readonly ProcessorOptions options;
    private readonly ProcessingMetrics metrics;
    private readonly InputRecordDecoder decoder;
    private readonly OutputRecordWriter writer = new();
    private readonly Dictionary<ModelBinding, Runtime> runtimes = new(ReferenceEqualityComparer.Instance);

    /// <summary>Creates a processor.</summary>
    /// <param name="router">Models and routes.</param>
    /// <param name="options">Processing settings.</param>
    /// <param name="metrics">Instruments (a private set is created when null).</param>
    /// <param name="numericTimeFormat">What a numeric <c>time</c> in an encoded record means.</param>
    public StreamProcessor(ModelRouter router, ProcessorOptions? options = null, ProcessingMetrics? metrics = null, TimeFormat numericTimeFormat = TimeFormat.EpochMilliseconds)
    {
        ArgumentNullException.ThrowIfNull(router);
        this.router = router;
        this.options = options ?? new ProcessorOptions();
        this.metrics = metrics ?? new ProcessingMetrics();
        decoder = new InputRecordDecoder(this.options.MaxComponents, this.options.MaxRecordBytes, numericTimeFormat);
        foreach (var model in router.Models.Values)
        {
            runtimes[model] = new Runtime(model);
        }
    }

    /// <summary>The models and routes.</summary>
    public ModelRouter Router => router;

    /// <summary>Exact duplicates dropped.</summary>
    public long Duplicates { get; private set; }

    /// <summary>Records dead-lettered.</summary>
    public long DeadLetters { get; private set; }

    /// <summary>Observations stepped.</summary>
    public long Steps { get; private set; }

    /// <summary>Alerts emitted.</summary>
    public long Alerts { get; private set; }

    /// <summary>Steps that threw: each time, the stream's state was discarded (see <see cref="StreamFailed"/>).</summary>
    public long StreamFailures { get; private set; }

    /// <summary>
    /// Called on the processing thread when a model throws while stepping a stream. The stream's state is discarded and
    /// the record stepped again from the model's prior; when that fails too the record is dead-lettered as
    /// <see cref="DeadLetterReason.StepFailed"/>. The other streams are not affected.
    /// </summary>
    public Action<StreamFailure>? StreamFailed { get; set; }

    /// <summary>Decodes an encoded input record and processes it; undecodable records become dead letters.</summary>
    /// <param name="value">The record's bytes.</param>
    /// <param name="key">The stream id (Kafka key); empty when the record carries a <c>stream</c> field.</param>
    /// <param name="timestampMilliseconds">Transport timestamp used when the record has no time (NaN: none).</param>
    /// <param name="routeKey">Routing key for new streams (e.g. a sensor-type header), or empty.</param>
    /// <param name="source">Where the record came from.</param>
    /// <param name="store">The state store of the record's partition.</param>
    /// <param name="sink">Receives outputs and dead letters.</param>
    public void ProcessEncoded(ReadOnlySpan<byte> value, ReadOnlySpan<char> key, double timestampMilliseconds, ReadOnlySpan<char> routeKey, SourcePosition source, StateStore store, IRecordSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        if (!decoder.TryDecode(value, key, timestampMilliseconds, source, out var record, out var reason, out var error))
        {
            metrics.RecordIn();
            Reject(sink, reason, error ?? "invalid record", source, key, value);
            return;
        }

        Process(new InputRecord(record.StreamId, record.Time, record.Values, source, record.Control, routeKey, value), timestampMilliseconds, store, sink);
    }

    /// <summary>
    /// Dead-letters a record that the transport rejected itself (an unusable key before decoding, or outputs over the
    /// broker's message size after processing), counted like the processor's own dead letters.
    /// </summary>
    /// <param name="reason">Why.</param>
    /// <param name="message">A message naming the problem.</param>
    /// <param name="source">Where the record came from.</param>
    /// <param name="original">The record's bytes.</param>
    /// <param name="sink">Receives the dead letter.</param>
    /// <param name="processed">True when the processor already saw the record (it is not counted in again).</param>
    public void DeadLetter(DeadLetterReason reason, string message, SourcePosition source, ReadOnlySpan<byte> original, IRecordSink sink, bool processed = false)
    {
        ArgumentNullException.ThrowIfNull(sink);
        if (!processed)
        {
            metrics.RecordIn();
        }

        Reject(sink, reason, message, source, default, original);
    }

    /// <summary>Processes one decoded record that has no transport timestamp (a file row).</summary>
    public void Process(in InputRecord record, StateStore store, IRecordSink sink) => Process(record, double.NaN, store, sink);

    /// <summary>Processes one decoded record.</summary>
    /// <param name="record">The record.</param>
    /// <param name="transportMilliseconds">The transport's timestamp of the record in epoch milliseconds (NaN: none), the reference of <see cref="ProcessorOptions.MaxTimeSkew"/>.</param>
    /// <param name="store">The state store of the record's partition.</param>
    /// <param name="sink">Receives outputs and dead letters.</param>
    public void Process(in InputRecord record, double transportMilliseconds, StateStore store, IRecordSink sink)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(sink);
        metrics.RecordIn();
        var id = record.StreamId;
        if (id.IsEmpty)
        {
            Reject(sink, DeadLetterReason.MissingKey, "record has no stream id.", record.Source, id, record.Original);
            return;
        }

        // A record is checked against the stream's model before any state exists for it: a rejected record under a new
        // stream id creates nothing.
        var state = Find(id, store);
        var model = state?.Model ?? Route(record, sink);
        if (model is null)
        {
            return;
        }

        var info = model.Estimator.Info;
        if (record.Values.Length != info.ObservationDimension)
        {
            Reject(sink, DeadLetterReason.WrongDimension, $"record has {record.Values.Length} values but model '{model.Name}' observes {info.ObservationDimension}.", record.Source, id, record.Original);
            return;
        }

        if (!record.Control.IsEmpty && record.Control.Length != info.ControlDimension)
        {
            Reject(sink, DeadLetterReason.WrongDimension, info.ControlDimension == 0
                ? $"record has a control input but model '{model.Name}' takes none."
                : $"record has {record.Control.Length} control inputs but model '{model.Name}' takes {info.ControlDimension}.", record.Source, id, record.Original);
            return;
        }

        var t = record.Time.ToModelTime(model.UnitMilliseconds);
        if (!double.IsFinite(t))
        {
            Reject(sink, DeadLetterReason.Unparseable, "record time is not finite.", record.Source, id, record.Original);
            return;
        }

        if (!InputRules.IsInRange(record.Time, model.Horizon * model.Spec.ForecastStep, model.UnitMilliseconds, out var outOfRange))
        {
            Reject(sink, DeadLetterReason.TimeOutOfRange, outOfRange!, record.Source, id, record.Original);
            return;
        }

        if (TooFarAhead(state, model, id, record.Time, t, transportMilliseconds) is { } ahead)
        {
            Reject(sink, DeadLetterReason.TooFarAhead, ahead, record.Source, id, record.Original);
            return;
        }

        if (state is not null && !double.IsNaN(state.LastModelTime))
        {
            if (t == state.LastModelTime)
            {
                if (state.LastFingerprint == 0 || state.LastFingerprint == InputRules.Fingerprint(record.Values, record.Control))
                {
                    Duplicates++;
                    metrics.Duplicate();
                }
                else
                {
                    Reject(sink, DeadLetterReason.ConflictingDuplicate, ConflictMessage(record.Time, state.StreamId), record.Source, id, record.Original);
                }

                return;
            }

            if (t < state.LastModelTime)
            {
                Reject(sink, DeadLetterReason.TooLate, $"time {record.Time.Describe()} is before the last processed time {state.LastTime.Describe()} of stream {TerminalSafeText.Quote(state.StreamId)} (allowed lateness {LatenessText(record.Time, model.UnitMilliseconds)}).", record.Source, id, record.Original);
                return;
            }
        }

        state ??= Create(id, model, store);
        var lateness = options.AllowedLateness.TotalMilliseconds / model.UnitMilliseconds;
        if (lateness <= 0.0)
        {
            Step(state, store, record.Time, t, record.Values, record.Control, record.Source, record.Original, sink);
            return;
        }

        var pending = state.Pending ??= [];
        var index = pending.Count;
        while (index > 0 && pending[index - 1].ModelTime > t)
        {
            index--;
        }

        if (index > 0 && pending[index - 1].ModelTime == t)
        {
            var earlier = pending[index - 1];
            if (InputRules.Fingerprint(earlier.Values, earlier.Control) == InputRules.Fingerprint(record.Values, record.Control))
            {
                Duplicates++;
                metrics.Duplicate();
            }
            else
            {
                Reject(sink, DeadLetterReason.ConflictingDuplicate, ConflictMessage(record.Time, state.StreamId), record.Source, id, record.Original);
            }

            return;
        }

        pending.Insert(index, new PendingObservation(record.Time, t, record.Values.ToArray(), record.Control.ToArray(), record.Source));
        state.MaxSeenModelTime = double.IsNaN(state.MaxSeenModelTime) ? t : Math.Max(state.MaxSeenModelTime, t);
        state.Dirty = true;
        Release(state, store, state.MaxSeenModelTime - lateness, sink);
    }

    /// <summary>Processes every observation still waiting in lateness buffers (end of a file), oldest first per stream.</summary>
    public void Drain(StateStore store, IRecordSink sink)
    {
        ArgumentNullException.ThrowIfNull(store);
        foreach (var state in store.Streams.OrderBy(s => s.StreamId, StringComparer.Ordinal).ToList())
        {
            Release(state, store, double.PositiveInfinity, sink);
        }
    }

    /// <summary>
    /// Emits fixed-interval smoothed records (every step smoothed on the whole series) for every stream, in stream-id
    /// order. Needs <see cref="ProcessorOptions.KeepHistory"/>; streams whose model cannot smooth are skipped.
    /// </summary>
    public void EmitFixedInterval(StateStore store, IRecordSink sink) => EmitFixedInterval(store, sink, null);

    /// <summary>
    /// Emits fixed-interval smoothed records as <see cref="EmitFixedInterval(StateStore, IRecordSink)"/>, and tells
    /// <paramref name="note"/> about each particle stream whose early smoothed states collapsed onto one particle.
    /// </summary>
    /// <remarks>
    /// A particle filter whose model has no transition density, or whose <c>intervalSmoothing</c> says so (or whose N
    /// is above the marginal smoother's limit), smooths by tracing each final particle's ancestors back; far enough
    /// back every traced path shares one ancestor, and the smoothed state there is a single point with variance 0 (27
    /// of the first 100 steps of the bundled growth example at 1,000 particles, traced). That 0 is the method's path
    /// degeneracy, not certainty, and the records cannot say so themselves. Streams smoothed by marginal (FFBSm)
    /// weights are not checked: their weights stay on each step's own particles.
    /// </remarks>
    public void EmitFixedInterval(StateStore store, IRecordSink sink, Action<string>? note) => EmitFixedInterval(store, sink, note, null);

    /// <summary>
    /// As <see cref="EmitFixedInterval(StateStore, IRecordSink, Action{string})"/>, telling <paramref name="progress"/>
    /// how many kept steps, over all streams, have been smoothed so far (out of the sum of the streams' history lengths).
    /// </summary>
    public void EmitFixedInterval(StateStore store, IRecordSink sink, Action<string>? note, Action<long>? progress)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(sink);
        long before = 0;
        foreach (var state in store.Streams.OrderBy(s => s.StreamId, StringComparer.Ordinal))
        {
            if (state.History is not { Count: > 0 } history)
            {
                continue;
            }

            var estimator = state.Model.Estimator is FixedLagSmoother fl ? fl.Inner : state.Model.Estimator;
            var n = estimator.Info.StateDimension;
            var e = estimator.Info.SmoothedExtrasLength;
            int collapsed = 0, first = -1;
            var restarts = state.HistoryRestarts ?? [];
            for (var stretch = 0; stretch <= restarts.Count; stretch++)
            {
                // Each stretch between re-initialisations is a series of its own: the backward pass never crosses a
                // restart, since the step after it predicted from the prior, not from the step before the restart.
                var start = stretch == 0 ? 0 : restarts[stretch - 1];
                var end = stretch < restarts.Count ? restarts[stretch] : history.Count;
                if (end == start)
                {
                    continue;
                }

                var done = before;
                var (means, covs, extras) = FixedIntervalSmoother.SmoothWithExtras(estimator, history.Skip(start).Take(end - start).Select(h => h.Record).ToList(), progress is null ? null : steps => progress(done + steps));
                before += end - start;
                for (var i = 0; i < end - start; i++)
                {
                    var bytes = writer.WriteSmoothed(state.StreamId, history[start + i].Time, state.Model.Name, "fixed-interval", end - start - 1 - i, means.AsSpan(i * n, n), covs.AsSpan(i * n * n, n * n), estimator.Info.HasStateCovariance, estimator.Info.SmoothedExtras, extras.AsSpan(i * e, e));
                    Emit(sink, OutputKind.Smoothed, state.StreamId, bytes);
                }

                if (note is not null && estimator is StreamSeq.Estimation.Particles.ParticleFilter { SmoothsByMarginalWeights: false } && CollapsedSteps(means, covs, n, end - start) is (> 0 and var count, var at))
                {
                    collapsed += count;
                    first = first < 0 ? start + at : first;
                }
            }

            if (collapsed > 0)
            {
                note!($"stream '{state.StreamId}': {collapsed} of {history.Count} fixed-interval smoothed states (the earliest at reading {first + 1}) trace back to a single particle, so their variance 0 is the ancestor-tracing smoother's path degeneracy, not certainty; fixed-lag smoothing (--lag), more particles, or marginal smoothing (\"intervalSmoothing\": \"marginal\", for models with a transition density) give spread there.");
            }
        }
    }

    /// <summary>Steps whose smoothed covariance is zero up to rounding of the mean (every variance below 1e-20 (1 + mean²)), and the first of them.</summary>
    private static (int Count, int First) CollapsedSteps(ReadOnlySpan<double> means, ReadOnlySpan<double> covs, int n, int steps)
    {
        int count = 0, first = -1;
        for (var t = 0; t < steps; t++)
        {
            var collapsed = true;
            for (var d = 0; d < n && collapsed; d++)
            {
                var mean = means[(t * n) + d];
                collapsed = covs[(t * n * n) + (d * n) + d] <= 1e-20 * (1 + (mean * mean));
            }

            if (collapsed)
            {
                count++;
                first = first < 0 ? t : first;
            }
        }

        return (count, first);
    }

    /// <summary>
    /// Restores a stream from its changelog bytes into a store; returns false, with the reason, when the state cannot be
    /// used. Bytes that are no stream state are discarded. A state the configured model does not read (its model changed
    /// or is no longer configured) is kept in an in-memory store as it was read, not live, as the disk store keeps it: a
    /// query of the stream then says that its stored state is an earlier model's instead of that the stream is not
    /// owned here, and its next record discards it (counted then) and starts the stream from the model's prior.
    /// </summary>
    public bool Restore(StateStore store, string streamId, ReadOnlySpan<byte> data, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(store);
        StreamState? state;
        try
        {
            state = StreamStateCodec.Read(streamId, data, router, out reason);
        }
        catch (FormatException e)
        {
            reason = e.Message;
            metrics.StateDiscarded();
            return false;
        }

        if (state is null && store.IsCache)
        {
            metrics.StateDiscarded();
            return false;
        }

        if (state is null || (store.MaxLiveStreams > 0 && store.LiveCount >= store.MaxLiveStreams))
        {
            store.PutEvicted(streamId, data.ToArray());
        }
        else
        {
            store.Put(state);
        }

        return state is not null;
    }

    /// <inheritdoc />
    public void Dispose() => writer.Dispose();

    private void Release(StreamState state, StateStore store, double watermark, IRecordSink sink)
    {
        var pending = state.Pending;
        if (pending is null)
        {
            return;
        }

        var released = 0;
        while (released < pending.Count && pending[released].ModelTime <= watermark)
        {
            var p = pending[released];
            if (!double.IsNaN(state.LastModelTime) && p.ModelTime <= state.LastModelTime)
            {
                // Cannot happen through Process (older records are rejected on arrival); kept for restored buffers.
                released++;
                continue;
            }

            // A stream restarted after a failed step continues in a new state, which takes the waiting observations over.
            state = Step(state, store, p.Time, p.ModelTime, p.Values, p.Control, p.Source, default, sink);
            released++;
        }

        if (released > 0)
        {
            pending.RemoveRange(0, released);
            state.Pending = pending.Count == 0 ? null : pending;
        }
    }

    /// <summary>
    /// A stored state, or null with the reason when it cannot be used: its model changed, or its bytes are not a stream
    /// state this build reads (another version's or tool's record, a corrupted copy). Either way the stream starts again
    /// from its model's prior, and the other streams are not affected. Never throws for any bytes.
    /// </summary>
    public StreamState? Decode(string streamId, ReadOnlySpan<byte> data, out string? reason)
    {
        try
        {
            return StreamStateCodec.Read(streamId, data, router, out reason);
        }
        catch (FormatException e)
        {
            reason = e.Message;
            return null;
        }
    }

    /// <summary>The stream's live state, or its evicted state brought back to life; null for a stream never seen.</summary>
    private StreamState? Find(ReadOnlySpan<char> id, StateStore store)
    {
        if (store.TryGetLive(id, out var state))
        {
            return state;
        }

        if (store.TryTakeEvicted(id, out var key, out var data, out var changed))
        {
            state = Decode(key, data, out _);
            if (state is not null)
            {
                state.Dirty = changed;
                store.Put(state);
                return state;
            }

            metrics.StateDiscarded();
        }

        return null;
    }

    /// <summary>The model for a new stream, or null after dead-lettering the record when no route matches.</summary>
    private ModelBinding? Route(in InputRecord record, IRecordSink sink)
    {
        var id = record.StreamId;
        var model = router.Route(id, record.RouteKey);
        if (model is null)
        {
            Reject(sink, DeadLetterReason.UnknownModel, $"no model is configured for stream {TerminalSafeText.Quote(id.ToString())}{(record.RouteKey.IsEmpty ? string.Empty : $" (route key {TerminalSafeText.Quote(record.RouteKey.ToString())})")}.", record.Source, id, record.Original);
        }

        return model;
    }

    /// <summary>A new stream from its model's prior, once its first record passed every check.</summary>
    private StreamState Create(ReadOnlySpan<char> id, ModelBinding model, StateStore store)
    {
        var name = id.ToString();
        var state = new StreamState(name, model, StreamSeed.Derive(id, model.Spec.Seed));
        if (options.StartingParameters is { } table && model.Estimator is IParameterLearner learner && table.TryGet(name, model, out var start))
        {
            // A new stream of a model that learns its noise starts from what a previous run learned (validated on load).
            learner.StartFrom(state.Buffer, start);
        }

        if (options.KeepHistory && model.Estimator.Info.CanSmooth)
        {
            state.History = [];
        }

        store.Put(state);
        metrics.StreamCreated();
        return state;
    }

    /// <summary>
    /// Steps a stream on one observation; returns the stream's state afterwards, a new one when the step failed.
    /// </summary>
    /// <remarks>
    /// A step that throws means the stream's state is one its model cannot step (a restored state whose bytes decode but
    /// whose contents are damaged) or the observation is one the model cannot take. Either way only that stream is
    /// affected: its state is discarded and the observation is stepped again from the model's prior. When that fails too,
    /// the observation is dead-lettered as <see cref="DeadLetterReason.StepFailed"/> and the stream stays at its prior.
    /// Nothing is emitted for a failed step, and each failure is reported to <see cref="StreamFailed"/>.
    /// </remarks>
    private StreamState Step(StreamState state, StateStore store, RecordTime time, double modelTime, ReadOnlySpan<double> values, ReadOnlySpan<double> control, SourcePosition source, ReadOnlySpan<byte> original, IRecordSink sink)
    {
        if (TryStep(state, time, modelTime, values, control, sink) is not { } failure)
        {
            return state;
        }

        var restarted = Restart(state, store);
        var again = TryStep(restarted, time, modelTime, values, control, sink);
        Failed(new StreamFailure(state.StreamId, state.Model.Name, failure, RecordRejected: again is not null));
        if (again is null)
        {
            return restarted;
        }

        var prior = Restart(restarted, store, discarded: false);
        Reject(sink, DeadLetterReason.StepFailed, $"model '{state.Model.Name}' failed to step stream {TerminalSafeText.Quote(state.StreamId)} on this record, also from its prior ({again.GetType().Name}: {again.Message}); the stream stays at its prior.", source, state.StreamId, original);
        return prior;
    }

    /// <summary>
    /// A new state from the model's prior in place of a stream's failed one, keeping the observations that wait;
    /// <paramref name="discarded"/> counts the failed state as discarded (not the prior a record failed on).
    /// </summary>
    private StreamState Restart(StreamState failed, StateStore store, bool discarded = true)
    {
        if (discarded)
        {
            metrics.StateDiscarded();
        }

        var restarted = Create(failed.StreamId, failed.Model, store);
        restarted.Pending = failed.Pending;
        restarted.MaxSeenModelTime = failed.MaxSeenModelTime;
        return restarted;
    }

    private void Failed(StreamFailure failure)
    {
        StreamFailures++;
        StreamFailed?.Invoke(failure);
    }

    /// <summary>Steps and emits; returns what the model threw, having emitted nothing and changed only the stream's buffer.</summary>
    private Exception? TryStep(StreamState state, RecordTime time, double modelTime, ReadOnlySpan<double> values, ReadOnlySpan<double> control, IRecordSink sink)
    {
        var start = Stopwatch.GetTimestamp();
        var model = state.Model;
        var runtime = runtimes[model];
        var estimator = model.Estimator;
        var estimate = runtime.Estimate;
        var gap = double.IsNaN(state.LastModelTime) ? 0.0 : modelTime - state.LastModelTime;
        var record = state.History is null ? default : new double[estimator.Info.BackwardRecordLength];
        var scratch = StepScratch.Mark;
        try
        {
            state.ReserveForNextStep();
            estimator.Step(state.Buffer, new Observation(values, gap, time.Value, control), estimate, record);
            if (runtime.Forecast is { } ahead)
            {
                estimator.Forecast(state.Buffer, model.Spec.ForecastStep, ahead);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            StepScratch.Release(scratch);
            return e;
        }

        // The smoothed time is the one output time that comes from the state (a fixed-lag window's slot) rather than from
        // a checked record: a damaged state can hold one no record can carry.
        if (estimate.HasSmoothed && !InputRules.CanWrite(new RecordTime(estimate.SmoothedTime, time.Format)))
        {
            return Unwritable(estimate.SmoothedTime, time.Format);
        }

        for (var i = 0; i < estimate.FlushedCount; i++)
        {
            if (!InputRules.CanWrite(new RecordTime(estimate.FlushedTime(i), time.Format)))
            {
                return Unwritable(estimate.FlushedTime(i), time.Format);
            }
        }

        if (state.History is not null)
        {
            // A re-initialised step ends a stretch: the steps before it keep theirs, smoothed on the readings up to the
            // restart, and the steps after it make a stretch of their own. The re-initialised step begins that stretch
            // when its record is the fresh state every later step descends from (a particle filter's redrawn
            // population, a filter restarted from its prior with the reading assimilated, a recurrent net's reset
            // state: IRestartRecords); otherwise (its record may hold the failed step) it is left out.
            var reinitialized = (estimate.Flags & EstimateFlags.Reinitialized) != 0;
            if (reinitialized && state.History.Count > (state.HistoryRestarts is { Count: > 0 } marks ? marks[^1] : 0))
            {
                (state.HistoryRestarts ??= []).Add(state.History.Count);
            }

            if (!reinitialized || ((estimator is FixedLagSmoother lagged ? lagged.Inner : estimator) is IRestartRecords restarts && restarts.BeginsStretch(state.Buffer)))
            {
                state.History.Add((time, record!));
            }
        }

        if ((estimate.Flags & (EstimateFlags.Repaired | EstimateFlags.Reinitialized)) != 0)
        {
            metrics.NumericalRepair(model.Name, (estimate.Flags & EstimateFlags.Reinitialized) != 0 ? "reinitialized" : "repaired");
        }

        var id = state.StreamId;

        // A re-initialisation ends a stretch: its steps still waiting for a fixed-lag smoothed record get theirs first,
        // in time order, so every step before the restart has exactly one.
        for (var i = 0; i < estimate.FlushedCount; i++)
        {
            Emit(sink, OutputKind.Smoothed, id, writer.WriteSmoothed(id, new RecordTime(estimate.FlushedTime(i), time.Format), model.Name, "fixed-lag", estimate.FlushedLag(i), estimate.FlushedMean(i), estimate.FlushedCovariance(i), estimator.Info.HasStateCovariance, estimator.Info.SmoothedExtras, estimate.FlushedExtras(i)));
        }

        Emit(sink, OutputKind.Filtered, id, writer.WriteFiltered(id, time, model.Name, estimate));
        if (estimate.HasSmoothed)
        {
            Emit(sink, OutputKind.Smoothed, id, writer.WriteSmoothed(id, new RecordTime(estimate.SmoothedTime, time.Format), model.Name, "fixed-lag", estimate.SmoothedLag, estimate.SmoothedMean, estimate.SmoothedCovariance, estimator.Info.HasStateCovariance, estimator.Info.SmoothedExtras, estimate.SmoothedExtras));
        }

        if (runtime.Forecast is { } forecast)
        {
            var stepGap = model.Spec.ForecastStep;
            for (var k = 1; k <= forecast.MaxHorizon; k++)
            {
                Emit(sink, OutputKind.Forecast, id, writer.WriteForecast(id, time.AddModelTime(k * stepGap, model.UnitMilliseconds), time, model.Name, k, forecast));
            }
        }

        if (model.Rules.Count > 0)
        {
            ApplyRules(state, time, modelTime, values, estimate, sink);
        }

        state.LastTime = time;
        state.LastModelTime = modelTime;
        state.LastFingerprint = InputRules.Fingerprint(values, control);
        if (double.IsNaN(state.MaxSeenModelTime) || modelTime > state.MaxSeenModelTime)
        {
            state.MaxSeenModelTime = modelTime;
        }

        state.Steps++;
        state.Dirty = true;
        Steps++;
        metrics.StepDuration(model.Name, Stopwatch.GetElapsedTime(start).TotalSeconds);
        return null;
    }

    private static InvalidDataException Unwritable(double smoothedTime, TimeFormat format) =>
        new(string.Create(CultureInfo.InvariantCulture, $"the smoothed time {smoothedTime:R} that the state holds cannot be written as a {(format == TimeFormat.ModelUnits ? "model time" : "date-time")}."));

    private void ApplyRules(StreamState state, RecordTime time, double modelTime, ReadOnlySpan<double> values, Estimate estimate, IRecordSink sink)
    {
        var model = state.Model;
        var beyond = false;
        var cleared = true;
        AnomalyRule? fired = null;
        double firedScore = double.NaN, firedThreshold = double.NaN;
        for (var i = 0; i < model.Rules.Count; i++)
        {
            var rule = model.Rules[i];
            var hit = rule.Evaluate(estimate, model.RuleExtraOffsets[i], scoreEveryStep: false, out var score, out var threshold, out var ruleCleared);
            cleared &= ruleCleared;
            if (hit && !beyond)
            {
                beyond = true;
                fired = rule;
                firedScore = score;
                firedThreshold = threshold;
            }
        }

        // A wholly missing reading has no score: it says nothing of whether an episode is over, so it never ends one
        // (a sensor that spikes, drops out and spikes again is one episode, one alert).
        cleared &= !TensorPrimitives.IsNaNAll(values);
        if (AlertGate.Step(ref state.Gate, model.Gate, modelTime, beyond, cleared) && fired is not null)
        {
            Alerts++;
            metrics.Anomaly(model.Name, fired.Name);
            Emit(sink, OutputKind.Anomaly, state.StreamId, writer.WriteAnomaly(state.StreamId, time, model.Name, fired.Name, firedScore, firedThreshold, estimate, values));
        }
    }

    private void Emit(IRecordSink sink, OutputKind kind, ReadOnlySpan<char> id, ReadOnlySpan<byte> bytes)
    {
        metrics.RecordOut(kind);
        sink.Write(kind, id, bytes);
    }

    private void Reject(IRecordSink sink, DeadLetterReason reason, string message, SourcePosition source, ReadOnlySpan<char> id, ReadOnlySpan<byte> original)
    {
        DeadLetters++;
        metrics.DeadLetter(reason);
        sink.DeadLetter(new DeadLetter(reason, message, source, id, original));
    }

    /// <summary>
    /// The reason a record is too far ahead, or null: its time may be at most the skew ahead of the later of its
    /// transport timestamp (when it has one) and its stream's newest time (when the stream has one). Taking the later
    /// of the two accepts a stream that resumes after a gap (its timestamp moved on too) and a producer that replays
    /// event time faster than the clock (its stream's times move on), and still stops one reading stamped far ahead.
    /// </summary>
    private string? TooFarAhead(StreamState? state, ModelBinding model, ReadOnlySpan<char> id, RecordTime time, double modelTime, double transportMilliseconds)
    {
        if (options.MaxTimeSkew is not { } skew)
        {
            return null;
        }

        var unit = model.UnitMilliseconds;
        var transport = !double.IsNaN(transportMilliseconds) && time.Format != TimeFormat.ModelUnits ? transportMilliseconds / unit : double.NaN;
        var newest = state?.MaxSeenModelTime ?? double.NaN;
        var reference = double.IsNaN(transport) ? newest : double.IsNaN(newest) ? transport : Math.Max(transport, newest);
        var bound = skew.TotalMilliseconds / unit;
        if (double.IsNaN(reference) || !(modelTime - reference > bound))
        {
            return null;
        }

        return time.Format == TimeFormat.ModelUnits
            ? string.Create(CultureInfo.InvariantCulture, $"time {time.Describe()} is {modelTime - reference:R} model time units ahead of the newest time of stream {TerminalSafeText.Quote(id.ToString())}; the bound is {bound:R}.")
            : $"time {time.Describe()} is more than {skew} ahead of the later of the record's timestamp and the newest time {new RecordTime(reference * unit, TimeFormat.Iso8601).Describe()} of stream {TerminalSafeText.Quote(id.ToString())}.";
    }

    /// <summary>
    /// The allowed lateness in the terms of the refused time: model time units for a time written in them (a file's
    /// numeric times, as <c>run --allowed-lateness</c> takes it), a time span for dates and epoch milliseconds.
    /// </summary>
    private string LatenessText(RecordTime time, double unitMilliseconds) =>
        time.Format == TimeFormat.ModelUnits
            ? (options.AllowedLateness.TotalMilliseconds / unitMilliseconds).ToString("R", CultureInfo.InvariantCulture)
            : options.AllowedLateness.ToString();

    private static string ConflictMessage(RecordTime time, string streamId) =>
        $"stream {TerminalSafeText.Quote(streamId)} already has a reading at time {time.Describe()} with different values.";

    private sealed class Runtime(ModelBinding model)
    {
        public Estimate Estimate { get; } = Reserved(model.Estimator);

        public Forecast? Forecast { get; } = model.Horizon > 0 ? new Forecast(model.Estimator.Info, model.Horizon) : null;

        /// <summary>The estimate, with room for the smoothed estimates a fixed-lag smoother flushes at a re-initialisation,
        /// so that step allocates nothing either.</summary>
        private static Estimate Reserved(IEstimator estimator)
        {
            var estimate = new Estimate(estimator.Info);
            if (estimator is FixedLagSmoother smoother)
            {
                estimate.ReserveFlushed(smoother.Lag);
            }

            return estimate;
        }
    }
}
