using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;

namespace StreamSeq.Estimation.Smoothing;

/// <summary>
/// Online fixed-lag smoothing for any estimator with a backward step: after each observation at t it also
/// reports p(h_{t-L} | y_{1:t}), exactly what a fixed-interval smoother run on y_{1:t} gives for step t−L, except where
/// the estimator's fixed-interval backward step differs from its streaming one (<see cref="IBackwardStep.BackwardOverInterval"/>:
/// a particle filter traces ancestors here and may use marginal weights over a whole series).
/// </summary>
/// <remarks>
/// The decorator keeps the last L+1 forward records in the stream's own state buffer (so smoothing survives a
/// restore) and runs L backward steps per observation: O(L) work, no allocation. A re-initialised inner state
/// ends a stretch: the steps before the restart still waiting for their smoothed estimate get it on that step
/// (<see cref="Estimate.FlushedCount"/>, smoothed on the stretch alone, with the lag actually used), and the history
/// starts again: with the restart's own record when the inner estimator's record of a re-initialised step is the first
/// of the new stretch (<see cref="IRestartRecords"/>: a particle filter's fresh population, from which every later
/// particle descends, a Gaussian, HMM, IMM or changepoint filter restarted from its prior with the reading assimilated
/// as a first step, a recurrent net's reset state), so that step gets its smoothed estimate L readings later as a
/// stream's first step does; after the restart otherwise (a reading that could not be assimilated from the prior either,
/// or an estimator without that interface). Wrapping changes nothing in the filtered outputs. A state saved by the previous build, whose
/// inner estimator wrote records of another layout (<see cref="IFormerRecords"/>), is converted by
/// <see cref="UpgradeFormerState"/>; while a converted record is in the window, the window is smoothed as the previous
/// build smoothed it.
/// </remarks>
public sealed class FixedLagSmoother : IEstimator, IParameterLearner
{
    private readonly IEstimator inner;
    private readonly IBackwardStep backward;
    private readonly IFormerRecords? former;
    private readonly IRestartRecords? restarts;
    private readonly int innerLength;
    private readonly int recordLength;
    private readonly int slotLength;
    private readonly int slots;

    /// <summary>Wraps <paramref name="inner"/> with lag <paramref name="lag"/> (at least 1).</summary>
    public FixedLagSmoother(IEstimator inner, int lag)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (inner is not IBackwardStep step || !inner.Info.CanSmooth)
        {
            throw new ModelValidationException("lag", $"the {inner.Info.Family} estimator has no backward step, so it cannot smooth.");
        }

        if (lag < 1)
        {
            throw new ModelValidationException("lag", $"must be at least 1, got {lag}.");
        }

        this.inner = inner;
        backward = step;
        former = inner is IFormerRecords f && f.FormerRecordLength > 0 ? f : null;
        restarts = inner as IRestartRecords;
        Lag = lag;
        innerLength = inner.Info.StateLength;
        recordLength = inner.Info.BackwardRecordLength;
        slotLength = recordLength + 1;
        slots = lag + 1;
        var i = inner.Info;
        Info = new EstimatorInfo
        {
            Family = i.Family,
            StateDimension = i.StateDimension,
            ObservationDimension = i.ObservationDimension,
            ControlDimension = i.ControlDimension,
            StateLength = innerLength + 2 + (slots * slotLength),
            BackwardRecordLength = i.BackwardRecordLength,
            SmoothingMessageLength = i.SmoothingMessageLength,
            UsesTimeGap = i.UsesTimeGap,
            HasStateCovariance = i.HasStateCovariance,
            Extras = i.Extras,
            SmoothedExtras = i.SmoothedExtras,
            Parameters = i.Parameters,
        };
    }

    /// <summary>The lag L.</summary>
    public int Lag { get; }

    /// <summary>
    /// The state length a stream needs for its next step after <paramref name="steps"/> steps: the ring of forward
    /// records fills its slots in order, so a short stream needs only as many slots as it has steps, and a buffer can
    /// grow with the data up to <see cref="EstimatorInfo.StateLength"/> instead of reserving L+1 records at once.
    /// The unused tail of a shorter buffer reads as zeros, as it would in the full one.
    /// </summary>
    public int StateLengthFor(long steps) =>
        innerLength + 2 + ((int)Math.Min(steps + 1, slots) * slotLength);

    /// <summary>
    /// The length of a state the previous build saved for this smoother (its records of the former layout,
    /// <see cref="IFormerRecords"/>), or 0 when the inner estimator's records did not change.
    /// </summary>
    internal int FormerStateLength => former is null ? 0 : innerLength + 2 + (slots * (former.FormerRecordLength + 1));

    /// <summary>
    /// Converts a state of <see cref="FormerStateLength"/> numbers (its leading part: the rest are zeros) that the
    /// previous build saved: the inner state, the window's count and position and each record's time as they are, each
    /// record filled converted (<see cref="IFormerRecords.UpgradeRecord"/>). Returns the leading part of the converted
    /// state, or null with the reason when the window does not fit the state.
    /// </summary>
    internal double[]? UpgradeFormerState(ReadOnlySpan<double> saved, out string? reason)
    {
        if (former is null || saved.Length > FormerStateLength)
        {
            reason = string.Create(CultureInfo.InvariantCulture, $"state buffer has {saved.Length} numbers, not a state of the previous build of this smoother ({FormerStateLength}).");
            return null;
        }

        var full = new double[FormerStateLength];
        saved.CopyTo(full);
        var countValue = full[innerLength];
        var headValue = full[innerLength + 1];
        if (!(countValue >= 0 && countValue <= slots && countValue == Math.Floor(countValue))
            || !(headValue >= 0 && headValue < slots && headValue == Math.Floor(headValue)))
        {
            reason = string.Create(CultureInfo.InvariantCulture, $"state of the previous build's layout holds a window ({countValue} of {slots} records filled, next at {headValue}) that cannot be converted");
            return null;
        }

        var count = (int)countValue;
        var head = (int)headValue;
        var formerRecordLength = former.FormerRecordLength;
        var formerSlotLength = formerRecordLength + 1;
        var result = new double[StateLengthFor(count)];
        full.AsSpan(0, innerLength + 2).CopyTo(result);
        var innerState = full.AsSpan(0, innerLength);
        var newest = (head - 1 + slots) % slots;
        for (var i = 0; i < count; i++)
        {
            var source = full.AsSpan(innerLength + 2 + (i * formerSlotLength), formerSlotLength);
            var target = Slot(result.AsSpan(), i);
            former.UpgradeRecord(source[..formerRecordLength], innerState, i == newest, target[..recordLength]);
            target[recordLength] = source[formerRecordLength];
        }

        reason = null;
        return result;
    }

    /// <summary>The wrapped estimator.</summary>
    public IEstimator Inner => inner;

    /// <inheritdoc />
    public EstimatorInfo Info { get; }

    /// <inheritdoc />
    public void ReadParameters(ReadOnlySpan<double> state, Span<double> values, Span<double> deviations)
    {
        CheckLength(state);
        if (inner is IParameterLearner learner)
        {
            learner.ReadParameters(state[..innerLength], values, deviations);
        }
    }

    /// <inheritdoc />
    public long ReadingsLearned(ReadOnlySpan<double> state) =>
        inner is IParameterLearner learner ? learner.ReadingsLearned(state[..innerLength]) : 0;

    /// <inheritdoc />
    public void StartFrom(Span<double> state, ReadOnlySpan<double> values)
    {
        CheckLength(state);
        if (inner is IParameterLearner learner)
        {
            learner.StartFrom(state[..innerLength], values);
        }
    }

    /// <inheritdoc />
    public void Initialize(Span<double> state, ulong seed)
    {
        CheckLength(state);
        state.Clear();
        inner.Initialize(state[..innerLength], seed);
    }

    /// <inheritdoc />
    public void Step(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        CheckLength(state);
        var count = (int)state[innerLength];
        var head = (int)state[innerLength + 1];
        if ((uint)count > (uint)slots || (uint)head >= (uint)slots || state.Length < Math.Max(StateLengthFor(count), StateLengthFor(head)))
        {
            ThrowWindow(nameof(state), state.Length, count, head);
        }

        var slot = Slot(state, head);
        estimate.SetFlushedCount(0);
        inner.Step(state[..innerLength], observation, estimate, slot[..recordLength]);
        if ((estimate.Flags & EstimateFlags.Reinitialized) != 0)
        {
            // The slot just written held the oldest record, whose smoothed estimate was reported already: the steps
            // still waiting for theirs are all in the other slots, and get it now.
            Flush(state, count, head, estimate);
            if (restarts is null || !restarts.BeginsStretch(state[..innerLength]))
            {
                state[innerLength] = 0;
                state[innerLength + 1] = 0;
                return;
            }

            // The restart's record begins the new stretch, in the first slot, as a stream's first step writes it.
            if (head != 0)
            {
                var first = Slot(state, 0);
                slot[..recordLength].CopyTo(first);
                slot = first;
            }

            count = 0;
            head = 0;
        }

        slot[recordLength] = observation.Time;
        if (!backwardRecord.IsEmpty)
        {
            slot[..recordLength].CopyTo(backwardRecord);
        }

        count = Math.Min(count + 1, slots);
        state[innerLength] = count;
        state[innerLength + 1] = (head + 1) % slots;
        if (count <= Lag)
        {
            return;
        }

        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var message = arena.Take(inner.Info.SmoothingMessageLength);
        var newer = Slot(state, head);
        Start(state, count, newer[..recordLength], message);
        for (var j = 1; j <= Lag; j++)
        {
            var older = Slot(state, (head - j + slots) % slots);
            backward.Backward(older[..recordLength], newer[..recordLength], message);
            newer = older;
        }

        backward.ReadSmoothed(newer[..recordLength], message, estimate.SmoothedMean, estimate.SmoothedCovariance);
        backward.ReadSmoothedExtras(newer[..recordLength], message, estimate.SmoothedExtras);
        estimate.HasSmoothed = true;
        estimate.SmoothedLag = Lag;
        estimate.SmoothedTime = newer[recordLength];
        arena.Release(mark);
    }

    /// <summary>
    /// At a re-initialisation, the steps of the stretch it ended that have no smoothed estimate yet (the last min(L, t)
    /// steps) get one in <see cref="Estimate.FlushedCount"/>, oldest first: one backward pass from the newest step
    /// before the restart, so each is smoothed on the whole stretch, as a fixed-interval smoother run on the stretch
    /// alone gives it, and its lag is the number of readings after it (fewer than L). The pass never crosses the
    /// restart: the step after it predicted from the prior, not from the step before it. No allocation once the
    /// estimate has room for L (<see cref="Estimate.ReserveFlushed"/>).
    /// </summary>
    private void Flush(ReadOnlySpan<double> state, int count, int head, Estimate estimate)
    {
        var pending = Math.Min(count, Lag);
        if (pending == 0)
        {
            return;
        }

        estimate.ReserveFlushed(Lag);
        var arena = ScratchArena.Current;
        var mark = arena.Mark;
        var message = arena.Take(inner.Info.SmoothingMessageLength);
        var newest = (head - 1 + slots) % slots;
        ReadOnlySpan<double> newer = Slot(state, newest);
        Start(state, count, newer[..recordLength], message);
        for (var j = 0; j < pending; j++)
        {
            if (j > 0)
            {
                var older = Slot(state, (newest - j + slots) % slots);
                backward.Backward(older[..recordLength], newer[..recordLength], message);
                newer = older;
            }

            var i = pending - 1 - j;
            backward.ReadSmoothed(newer[..recordLength], message, estimate.FlushedMean(i), estimate.FlushedCovariance(i));
            backward.ReadSmoothedExtras(newer[..recordLength], message, estimate.FlushedExtras(i));
            estimate.SetFlushed(i, newer[recordLength], j);
        }

        estimate.SetFlushedCount(pending);
        arena.Release(mark);
    }

    /// <summary>
    /// Smoothed estimates for the steps still inside the window at the end of a series (the last min(L, t) steps,
    /// oldest first), each given all observations so far: the pass a re-initialisation makes over the stretch it ends.
    /// Not for the hot path.
    /// </summary>
    public IReadOnlyList<(double Time, double[] Mean, double[] Covariance)> SmoothPending(ReadOnlySpan<double> state)
    {
        var pending = new Estimate(Info);
        Flush(state, (int)state[innerLength], (int)state[innerLength + 1], pending);
        var collected = new List<(double, double[], double[])>(pending.FlushedCount);
        for (var i = 0; i < pending.FlushedCount; i++)
        {
            collected.Add((pending.FlushedTime(i), pending.FlushedMean(i).ToArray(), pending.FlushedCovariance(i).ToArray()));
        }

        return collected;
    }

    /// <summary>Starts a backward pass; as the previous build did while the window holds records it wrote.</summary>
    private void Start(ReadOnlySpan<double> state, int count, ReadOnlySpan<double> newest, Span<double> message)
    {
        if (former is not null)
        {
            var filled = Math.Min(Math.Min(count, slots), (state.Length - innerLength - 2) / slotLength);
            for (var i = 0; i < filled; i++)
            {
                if (former.IsFormerRecord(Slot(state, i)[..recordLength]))
                {
                    former.StartBackwardAsFormer(newest, message);
                    return;
                }
            }
        }

        backward.StartBackward(newest, message);
    }

    /// <inheritdoc />
    public void Forecast(ReadOnlySpan<double> state, double stepGap, Forecast forecast)
    {
        CheckLength(state);
        inner.Forecast(state[..innerLength], stepGap, forecast);
    }

    /// <inheritdoc />
    public void ReadState(ReadOnlySpan<double> state, Span<double> mean, Span<double> covariance)
    {
        CheckLength(state);
        inner.ReadState(state[..innerLength], mean, covariance);
    }

    /// <summary>
    /// A smoother's state may be shorter than <see cref="EstimatorInfo.StateLength"/> (it grows with the window, see
    /// <see cref="StateLengthFor"/>), but never shorter than the inner state and the window's two numbers, nor longer.
    /// </summary>
    private void CheckLength(ReadOnlySpan<double> state)
    {
        if (state.Length < innerLength + 2 || state.Length > Info.StateLength)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"A fixed-lag smoother's state holds from {innerLength + 2} to {Info.StateLength} numbers (StateLengthFor gives the length a stream needs), got {state.Length}."), nameof(state));
        }
    }

    [DoesNotReturn]
    private void ThrowWindow(string paramName, int length, int count, int head) =>
        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The state's window ({count} of {slots} records filled, next at {head}) does not fit its {length} numbers: not a state of this smoother, or one not grown with StateLengthFor."), paramName);

    private Span<double> Slot(Span<double> state, int index) =>
        state.Slice(innerLength + 2 + (index * slotLength), slotLength);

    private ReadOnlySpan<double> Slot(ReadOnlySpan<double> state, int index) =>
        state.Slice(innerLength + 2 + (index * slotLength), slotLength);
}
