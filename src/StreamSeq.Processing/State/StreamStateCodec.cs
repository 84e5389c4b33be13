using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Records;

namespace StreamSeq.Processing.State;

/// <summary>
/// Compact, versioned binary form of a <see cref="StreamState"/> for the changelog. One codec serves every model
/// family because estimator state is a flat buffer; doubles are written as raw bits, so a restore is exact.
/// </summary>
/// <remarks>
/// Layout (little-endian), version 1: magic "SQ", version byte, model name, model fingerprint, seed, event-time
/// bookkeeping, alert gate, pending observations, then the state buffer's length and its leading non-zero part
/// (trailing zeros are implied, which keeps fixed-capacity buffers small on the wire). A state whose model no longer
/// exists or whose fingerprint differs (the spec changed) is not restored: the stream starts again from the prior.
/// Optional trailing fields, absent in older states: the fingerprint of the last observation's values.
/// A state buffer of another length than the model's is not restored, except the one length the previous build wrote
/// for a fixed-lag smoother whose inner estimator's records changed layout since (a linear Gaussian model with a
/// diffuse start, a particle filter, see <see cref="FixedLagSmoother.UpgradeFormerState"/>): that state is converted and
/// the stream goes on.
/// </remarks>
public static class StreamStateCodec
{
    /// <summary>The current format version.</summary>
    public const byte Version = 1;

    /// <summary>The fewest bytes a pending observation takes: time, model time, two empty arrays, empty source, partition, offset.</summary>
    private const int MinPendingBytes = 9 + 8 + 4 + 4 + 4 + 4 + 8;

    /// <summary>Serialises a stream's state.</summary>
    public static void Write(StreamState state, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(output);
        var w = new Writer(output);
        w.Byte((byte)'S');
        w.Byte((byte)'Q');
        w.Byte(Version);
        w.String(state.Model.Name);
        w.UInt64(state.Model.Fingerprint);
        w.UInt64(state.Seed);
        w.Time(state.LastTime);
        w.Double(state.LastModelTime);
        w.Double(state.MaxSeenModelTime);
        w.Int64(state.Steps);
        w.Byte(state.Gate.Active ? (byte)1 : (byte)0);
        w.Double(state.Gate.LastAlertTime);
        w.Double(state.Gate.WindowStart);
        w.Int32(state.Gate.WindowCount);
        w.Int64(state.Gate.TotalAlerts);
        w.Int64(state.Gate.Suppressed);
        var pending = state.Pending;
        w.Int32(pending?.Count ?? 0);
        if (pending is not null)
        {
            foreach (var p in pending)
            {
                w.Time(p.Time);
                w.Double(p.ModelTime);
                w.Doubles(p.Values);
                w.Doubles(p.Control);
                w.String(p.Source.Source);
                w.Int32(p.Source.Partition);
                w.Int64(p.Source.Offset);
            }
        }

        var buffer = state.Buffer;
        var used = buffer.Length;
        var bits = MemoryMarshal.Cast<double, long>(buffer.AsSpan());
        while (used > 0 && bits[used - 1] == 0)
        {
            used--;
        }

        w.Int32(state.Model.Estimator.Info.StateLength);
        w.Doubles(buffer.AsSpan(0, used));
        w.UInt64(state.LastFingerprint);
    }

    /// <summary>Serialises to a new array.</summary>
    public static byte[] ToBytes(StreamState state)
    {
        var writer = new ArrayBufferWriter<byte>(256);
        Write(state, writer);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Restores a stream's state; returns null (with the reason) when it cannot be used.</summary>
    /// <exception cref="FormatException">The bytes are not a stream state of a known version.</exception>
    public static StreamState? Read(string streamId, ReadOnlySpan<byte> data, ModelRouter models, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(models);
        var r = new Reader(data);
        if (r.Byte() != 'S' || r.Byte() != 'Q')
        {
            throw new FormatException($"state of stream '{streamId}' does not start with the StreamSeq magic bytes.");
        }

        var version = r.Byte();
        if (version != Version)
        {
            throw new FormatException($"state of stream '{streamId}' has format version {version}; this build reads version {Version}.");
        }

        var modelName = r.String();
        var fingerprint = r.UInt64();
        var model = models.Find(modelName);
        if (model is null)
        {
            reason = $"model '{modelName}' is no longer configured";
            return null;
        }

        if (!model.Accepts(fingerprint))
        {
            reason = $"model '{modelName}' changed since the state was written";
            return null;
        }

        var state = new StreamState(streamId, model, r.UInt64())
        {
            LastTime = r.Time(),
            LastModelTime = r.Double(),
            MaxSeenModelTime = r.Double(),
            Steps = r.Int64(),
        };
        CheckTimes(streamId, state, model);
        state.Gate.Active = r.Byte() != 0;
        state.Gate.LastAlertTime = r.Double();
        state.Gate.WindowStart = r.Double();
        state.Gate.WindowCount = r.Int32();
        state.Gate.TotalAlerts = r.Int64();
        state.Gate.Suppressed = r.Int64();
        CheckGate(streamId, state);
        var pendingCount = r.Int32();
        if (pendingCount > r.Remaining / MinPendingBytes)
        {
            // Checked before the list is sized: a corrupted count must not allocate gigabytes.
            throw new FormatException($"state of stream '{streamId}' is truncated: {pendingCount} pending observations announced, room for at most {r.Remaining / MinPendingBytes}.");
        }

        if (pendingCount > 0)
        {
            state.Pending = new List<PendingObservation>(pendingCount);
            for (var i = 0; i < pendingCount; i++)
            {
                var time = r.Time();
                var modelTime = r.Double();
                var values = r.Doubles();
                var control = r.Doubles();
                var source = new SourcePosition(r.String(), r.Int32(), r.Int64());
                CheckPending(streamId, i, model, time, modelTime, values, control);
                state.Pending.Add(new PendingObservation(time, modelTime, values, control, source));
            }
        }

        var length = r.Int32();
        FixedLagSmoother? former = null;
        if (length != model.Estimator.Info.StateLength)
        {
            if (model.Estimator is not FixedLagSmoother lagged || lagged.FormerStateLength != length)
            {
                reason = $"state buffer has {length} numbers but model '{modelName}' needs {model.Estimator.Info.StateLength}";
                return null;
            }

            former = lagged;
        }

        var used = r.Doubles();
        if (used.Length > length)
        {
            throw new FormatException($"state of stream '{streamId}' holds {used.Length} numbers, more than the {length} announced.");
        }

        if (former is not null)
        {
            // Saved by the previous build, whose smoothing records had another layout: converted, so that the stream
            // continues (its window is smoothed as that build smoothed it until the records it wrote have left it).
            used = former.UpgradeFormerState(used, out reason);
            if (used is null)
            {
                reason = $"{reason} (model '{modelName}')";
                return null;
            }
        }

        state.Reserve(used.Length);
        Array.Clear(state.Buffer);
        used.CopyTo(state.Buffer, 0);
        state.LastFingerprint = r.Remaining == 0 ? 0 : r.UInt64();
        reason = null;
        return state;
    }

    /// <summary>
    /// The stream's clock as a step leaves it: no time before its first step, else a last time an output record can carry
    /// and the model time computed from it; the newest time seen is none or finite. A damaged clock would otherwise fail
    /// every message or output that quotes it, or put every later record out of order.
    /// </summary>
    private static void CheckTimes(string streamId, StreamState state, ModelBinding model)
    {
        if (!double.IsNaN(state.LastModelTime)
            && (!InputRules.CanWrite(state.LastTime) || state.LastTime.ToModelTime(model.UnitMilliseconds) != state.LastModelTime))
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"state of stream '{streamId}' holds a last time {state.LastTime.Value:R} (model time {state.LastModelTime:R}) that no record of model '{model.Name}' can have."));
        }

        if (double.IsInfinity(state.MaxSeenModelTime))
        {
            throw new FormatException($"state of stream '{streamId}' holds an infinite newest time.");
        }
    }

    /// <summary>
    /// The alert gate as steps leave it: it is stepped at the time of each step, so its times are none or finite and no
    /// later than the stream's last time (none before the first step), and its counters lie between 0 and the steps
    /// taken. A damaged gate would otherwise hold back every later alert of the stream without a word: a last alert at
    /// +∞, or a full rate window that never ends.
    /// </summary>
    private static void CheckGate(string streamId, StreamState state)
    {
        var gate = state.Gate;
        static bool Valid(double time, double last) => double.IsNaN(time) || (double.IsFinite(time) && time <= last);
        if (!Valid(gate.LastAlertTime, state.LastModelTime) || !Valid(gate.WindowStart, state.LastModelTime)
            || gate.WindowCount < 0 || gate.WindowCount > state.Steps
            || gate.TotalAlerts < 0 || gate.TotalAlerts > state.Steps
            || gate.Suppressed < 0 || gate.Suppressed > state.Steps)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"state of stream '{streamId}' holds an alert gate no step could leave (last alert at {gate.LastAlertTime:R}, window from {gate.WindowStart:R} with {gate.WindowCount} alerts, {gate.TotalAlerts} alerts and {gate.Suppressed} suppressed in {state.Steps} steps, last time {state.LastModelTime:R})."));
        }
    }

    /// <summary>A waiting observation as the processor accepted it: a time an output can carry, its model time, the model's dimensions.</summary>
    private static void CheckPending(string streamId, int index, ModelBinding model, RecordTime time, double modelTime, double[] values, double[] control)
    {
        var info = model.Estimator.Info;
        if (!InputRules.CanWrite(time) || time.ToModelTime(model.UnitMilliseconds) != modelTime
            || values.Length != info.ObservationDimension || (control.Length != 0 && control.Length != info.ControlDimension))
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"state of stream '{streamId}' holds a waiting observation (number {index + 1}, time {time.Value:R}, {values.Length} values, {control.Length} control inputs) that model '{model.Name}' would not have accepted."));
        }
    }

    private ref struct Writer(IBufferWriter<byte> output)
    {
        public readonly void Byte(byte v) => Fixed(1)[0] = v;

        public readonly void Int32(int v) => BinaryPrimitives.WriteInt32LittleEndian(Fixed(4), v);

        public readonly void Int64(long v) => BinaryPrimitives.WriteInt64LittleEndian(Fixed(8), v);

        public readonly void UInt64(ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(Fixed(8), v);

        public readonly void Double(double v) => BinaryPrimitives.WriteInt64LittleEndian(Fixed(8), BitConverter.DoubleToInt64Bits(v));

        public readonly void Time(RecordTime t)
        {
            Double(t.Value);
            Byte((byte)t.Format);
        }

        public readonly void Doubles(ReadOnlySpan<double> values)
        {
            Int32(values.Length);
            var bytes = MemoryMarshal.AsBytes(values);
            var span = output.GetSpan(bytes.Length);
            if (BitConverter.IsLittleEndian)
            {
                bytes.CopyTo(span);
            }
            else
            {
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(span[(i * 8)..], BitConverter.DoubleToInt64Bits(values[i]));
                }
            }

            output.Advance(bytes.Length);
        }

        public readonly void String(string s)
        {
            var count = Encoding.UTF8.GetByteCount(s);
            Int32(count);
            var span = output.GetSpan(count);
            Encoding.UTF8.GetBytes(s, span);
            output.Advance(count);
        }

        private readonly Span<byte> Fixed(int size)
        {
            var span = output.GetSpan(size)[..size];
            output.Advance(size);
            return span;
        }
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> data = data;
        private int position;

        public readonly int Remaining => data.Length - position;

        public byte Byte() => Take(1)[0];

        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        public ulong UInt64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        public double Double() => BitConverter.Int64BitsToDouble(Int64());

        public RecordTime Time()
        {
            var value = Double();
            var format = Byte();
            return format <= (byte)TimeFormat.Iso8601
                ? new RecordTime(value, (TimeFormat)format)
                : throw new FormatException($"state holds a time of unknown format {format}.");
        }

        public double[] Doubles()
        {
            var n = Int32();
            if (n < 0 || n > (data.Length - position) / 8)
            {
                throw new FormatException($"state is truncated: {n} numbers announced, {(data.Length - position) / 8} present.");
            }

            var result = new double[n];
            var bytes = Take(n * 8);
            for (var i = 0; i < n; i++)
            {
                result[i] = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(bytes[(i * 8)..]));
            }

            return result;
        }

        public string String()
        {
            var n = Int32();
            return Encoding.UTF8.GetString(Take(n));
        }

        private ReadOnlySpan<byte> Take(int n)
        {
            if (n < 0 || n > data.Length - position)
            {
                throw new FormatException("state is truncated.");
            }

            var s = data.Slice(position, n);
            position += n;
            return s;
        }
    }
}
