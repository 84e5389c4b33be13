using System.Buffers.Binary;
using System.Globalization;
using StreamSeq.Estimation.Particles;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;
using static StreamSeq.Processing.Tests.State.FormerStateUpgradeTests;

namespace StreamSeq.Processing.Tests.State;

/// <summary>
/// States the previous build (5bf7331) saved for a fixed-lag smoother of a particle filter, whose backward records
/// have since gained a trailer (step, time gap, re-initialised flag) that only the fixed-interval FFBSm step reads:
/// restored and converted, the stream continues exactly as that build would have continued it. Fixtures and their
/// generator: Fixtures/former-state (<c>growth_*</c>, <c>linear_particle_*</c>).
/// </summary>
public sealed class FormerParticleStateUpgradeTests
{
    private const string GrowthModel = "particle-growth.json";

    /// <summary>A linear Gaussian model under the guided filter (two states).</summary>
    private const string LinearModel = "particle-linear.json";

    private const int Lag = 5;

    /// <summary>
    /// How far this build may differ from the previous build's outputs. The particle filter's weight sums and
    /// weighted means reduce with the widest vectors the processor has (System.Numerics.Tensors), so a machine
    /// with narrower vectors than the one that wrote the fixtures (AVX-512) adds in another order and differs in
    /// the last digits. A state read wrongly (a shifted layout, a lost trailer, another random stream) differs by
    /// far more; outputs of this build against this build stay bit for bit.
    /// </summary>
    private const double AcrossMachines = 1e-12;

    /// <summary>Numbers a record gained: step, time gap, re-initialised flag.</summary>
    private const int Trailer = 3;

    public static TheoryData<string, string, int> Cases() => new()
    {
        { "growth_lag5_mid", GrowthModel, 3 },
        { "growth_lag5_after", GrowthModel, 8 },
        { "linear_particle_lag5_mid", LinearModel, 3 },
        { "linear_particle_lag5_after", LinearModel, 8 },
    };

    /// <summary>
    /// Fixed lag traces ancestors, which the trailer does not enter, so every output after the restore, filtered and
    /// smoothed, for windows holding converted records or not, equals the previous build's (bit for bit on a machine
    /// with the fixtures' vector width, else within <see cref="AcrossMachines"/>), and equals a stream that ran on this
    /// build from its first reading bit for bit (the random stream is part of the state).
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Read_ParticleStateSavedByThePreviousBuild_ContinuesAsThatBuildWould(string name, string model, int saved)
    {
        var binding = Binding(model);
        var restored = StreamStateCodec.Read("s", File.ReadAllBytes(FixturePath(name + ".state")), TestModels.Router(binding), out var reason);
        Assert.Null(reason);
        Assert.NotNull(restored);
        var fresh = new StreamState("s", binding, 7);
        for (var t = 0; t < saved; t++)
        {
            Step(binding, fresh, t);
        }

        var expected = ReadOutputs(name);
        Assert.Equal(Following, expected.Count);
        var smoothed = 0;
        for (var k = 0; k < Following; k++)
        {
            var t = saved + k;
            var old = expected[k];
            var e = Step(binding, restored, t);
            var f = Step(binding, fresh, t);
            Assert.Equal(old.Time, t);
            AssertMatchesPreviousBuild(old.FilteredMean, e.StateMean, AcrossMachines);
            AssertMatchesPreviousBuild(old.FilteredCovariance, e.StateCovariance, AcrossMachines);
            Assert.Equal(f.StateMean, e.StateMean);
            Assert.Equal(old.SmoothedMean is not null, e.HasSmoothed);
            Assert.Equal(f.HasSmoothed, e.HasSmoothed);
            if (!e.HasSmoothed)
            {
                continue;
            }

            smoothed++;
            Assert.Equal(old.SmoothedTime, e.SmoothedTime);
            AssertMatchesPreviousBuild(old.SmoothedMean!, e.SmoothedMean, AcrossMachines);
            AssertMatchesPreviousBuild(old.SmoothedCovariance!, e.SmoothedCovariance, AcrossMachines);
            Assert.Equal(f.SmoothedMean, e.SmoothedMean);
            Assert.Equal(f.SmoothedCovariance, e.SmoothedCovariance);
        }

        // Windows holding converted records and windows of new records only.
        Assert.Equal(Following - Math.Max(0, Lag - saved), smoothed);
    }

    /// <summary>
    /// The end of a series right after the restore (the CLI's drain) smooths the window as the previous build did (within
    /// <see cref="AcrossMachines"/>).
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void SmoothPending_RightAfterTheRestore_EqualsThePreviousBuild(string name, string model, int saved)
    {
        FormerStateUpgradeTests.AssertPendingEqualsThePreviousBuild(Binding(model), name, Lag, saved, AcrossMachines);
    }

    /// <summary>
    /// A converted record keeps the previous build's numbers and gets the trailer step 0 (no step has that index), gap 0
    /// and flag 2 (converted). The fixed-interval step reads any non-zero flag as a re-initialised step: into a
    /// converted record, the marginal pass restarts from the filtering weights of the step before it, and never uses
    /// the unknown step or gap.
    /// </summary>
    [Fact]
    public void Read_ConvertedParticleRecords_HoldATrailerTheFixedIntervalStepRestartsAt()
    {
        var binding = Binding(GrowthModel);
        var smoother = (FixedLagSmoother)binding.Estimator;
        var filter = (ParticleFilter)smoother.Inner;
        Assert.True(filter.SmoothsByMarginalWeights);
        var bytes = File.ReadAllBytes(FixturePath("growth_lag5_mid.state"));
        var restored = StreamStateCodec.Read("s", bytes, TestModels.Router(binding), out var reason);
        Assert.Null(reason);
        var info = filter.Info;
        var recordLength = info.BackwardRecordLength;
        var innerLength = info.StateLength;
        var buffer = restored!.Buffer;
        Assert.Equal(3.0, buffer[innerLength]);
        ReadOnlySpan<double> Record(int slot) => buffer.AsSpan(innerLength + 2 + (slot * (recordLength + 1)), recordLength);

        // The saved numbers as they were: the slot's leading part, read straight from the saved buffer.
        var saved = SavedBuffer(bytes);
        var formerLength = recordLength - Trailer;
        for (var slot = 0; slot < 3; slot++)
        {
            var start = innerLength + 2 + (slot * (formerLength + 1));
            Assert.Equal(saved.AsSpan(start, formerLength).ToArray(), Record(slot)[..formerLength].ToArray());
            Assert.Equal(saved[start + formerLength], buffer[innerLength + 2 + (slot * (recordLength + 1)) + recordLength]);
            Assert.Equal([0.0, 0.0, 2.0], Record(slot)[formerLength..].ToArray());
        }

        var count = filter.Options.ParticleCount;
        var message = new double[info.SmoothingMessageLength];
        Record(1).Slice(count, count).CopyTo(message);
        filter.BackwardOverInterval(Record(0), Record(1), message);
        Assert.Equal(Record(0).Slice(count, count).ToArray(), message[..count]);
    }

    /// <summary>The restored state is the converted one: written again, it reads back as it is, not converted twice.</summary>
    [Fact]
    public void Read_ConvertedParticleState_WritesTheCurrentLengthAndReadsBackUnchanged()
    {
        var binding = Binding(LinearModel);
        var restored = StreamStateCodec.Read("s", File.ReadAllBytes(FixturePath("linear_particle_lag5_after.state")), TestModels.Router(binding), out var reason);
        Assert.Null(reason);
        var again = StreamStateCodec.Read("s", StreamStateCodec.ToBytes(restored!), TestModels.Router(binding), out reason);
        Assert.Null(reason);
        var length = Math.Max(restored!.Buffer.Length, again!.Buffer.Length);
        Assert.Equal(Padded(restored.Buffer, length), Padded(again.Buffer, length));
    }

    /// <summary>Only the previous build's length is converted; any other length is refused with the same reason as before.</summary>
    [Theory]
    [InlineData(GrowthModel, "growth", -1)]
    [InlineData(GrowthModel, "growth", +1)]
    [InlineData(GrowthModel, "growth", +9)]
    [InlineData(LinearModel, "linear-particle", -1)]
    [InlineData(LinearModel, "linear-particle", +3)]
    public void Read_ParticleStateOfAnotherLength_RefusedWithTheReason(string model, string modelName, int offset)
    {
        var binding = Binding(model);
        var prefix = model == GrowthModel ? "growth" : "linear_particle";
        var bytes = File.ReadAllBytes(FixturePath(prefix + "_lag5_after.state"));
        var length = AnnouncedLength(bytes, out var at);

        // The previous build's length: L + 1 slots, each one trailer shorter.
        Assert.Equal(length + ((Lag + 1) * Trailer), binding.Estimator.Info.StateLength);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), length + offset);
        var state = StreamStateCodec.Read("s", bytes, TestModels.Router(binding), out var reason);
        Assert.Null(state);
        Assert.Equal($"state buffer has {length + offset} numbers but model '{modelName}' needs {binding.Estimator.Info.StateLength}", reason);
    }

    private static ModelBinding Binding(string model) =>
        ModelBindingFactory.FromSpec(ModelSpec.Parse(File.ReadAllText(FixturePath(model))), Lag);

    private static double[] Padded(double[] values, int length)
    {
        var padded = new double[length];
        values.CopyTo(padded, 0);
        return padded;
    }

    /// <summary>
    /// The state buffer's announced length and its offset, as FormerStateUpgradeTests finds it but from
    /// the longest candidate down, whose announced length holds the count: particle records hold packed integers, which
    /// can pass for a short count.
    /// </summary>
    private static int AnnouncedLength(byte[] bytes, out int at)
    {
        for (var used = (bytes.Length / 8) - 2; used >= 0; used--)
        {
            var countAt = bytes.Length - 8 - (8 * used) - 4;
            if (countAt >= 4 && BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(countAt)) == used
                && BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(countAt - 4)) >= used)
            {
                at = countAt - 4;
                return BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at));
            }
        }

        throw new InvalidOperationException("no state buffer found");
    }

    /// <summary>The leading numbers of the state buffer as saved (after the announced length and the count).</summary>
    private static double[] SavedBuffer(byte[] bytes)
    {
        AnnouncedLength(bytes, out var at);
        var used = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at + 4));
        var values = new double[used];
        for (var i = 0; i < used; i++)
        {
            values[i] = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(at + 8 + (8 * i))));
        }

        return values;
    }
}
