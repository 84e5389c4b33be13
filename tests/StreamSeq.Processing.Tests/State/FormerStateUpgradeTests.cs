using System.Buffers.Binary;
using System.Globalization;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.State;
using StreamSeq.Processing.Tests.Support;
using StreamSeq.Testing;

namespace StreamSeq.Processing.Tests.State;

/// <summary>
/// States the previous build (5bf7331) saved for a fixed-lag smoother of a linear Gaussian model with a diffuse start,
/// whose smoothing records are longer now (docs/diffuse-initialization.md, "Records are longer"): restored and converted,
/// the stream continues as that build would have continued it. Fixtures and their generator: Fixtures/former-state.
/// </summary>
public sealed class FormerStateUpgradeTests
{
    /// <summary>Readings the generator steps after the saved state.</summary>
    internal const int Following = 12;

    private const string Model = "trend-week.json";

    /// <summary>The same model learning its noise: an adaptive Kalman filter, whose records are the Kalman filter's.</summary>
    private const string AdaptiveModel = "trend-week-adaptive.json";

    public static TheoryData<string, string, int, int> Cases() => new()
    {
        { "lag2_mid", Model, 2, 4 },
        { "lag5_mid", Model, 5, 4 },
        { "lag2_after", Model, 2, 9 },
        { "lag5_after", Model, 5, 9 },
        { "adaptive_lag5_mid", AdaptiveModel, 5, 4 },
        { "adaptive_lag5_after", AdaptiveModel, 5, 9 },
    };

    /// <summary>
    /// Filtered outputs equal the previous build's bit for bit (filtering did not change). A smoothed output whose window
    /// still holds a record the previous build wrote equals that build's bit for bit (the window is smoothed with its
    /// finite stand-in κ = 1e10 throughout); once the window holds only records written after the upgrade, it equals
    /// the output of a stream that ran on this build from its first reading, bit for bit (the exact diffuse smoother).
    /// Those outputs differ from the previous build's only for windows that still reach into the diffuse period
    /// (mid-diffuse saves), by the stand-in's error; after the diffuse period everything is bit for bit.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Read_StateSavedByThePreviousBuild_ContinuesAsThatBuildAndThenAsThisOne(string name, string model, int lag, int saved)
    {
        var binding = Binding(model, lag);
        var bytes = File.ReadAllBytes(FixturePath(name + ".state"));
        var restored = StreamStateCodec.Read("s", bytes, TestModels.Router(binding), out var reason);
        Assert.Null(reason);
        Assert.NotNull(restored);

        // The stream as it would be had it run on this build all along.
        var fresh = new StreamState("s", binding, 7);
        for (var t = 0; t < saved; t++)
        {
            Step(binding, fresh, t);
        }

        var expected = ReadOutputs(name);
        Assert.Equal(Following, expected.Count);
        var largestDifference = 0.0;
        for (var k = 0; k < Following; k++)
        {
            var t = saved + k;
            var old = expected[k];
            var e = Step(binding, restored, t);
            var f = Step(binding, fresh, t);
            Assert.Equal(old.Time, t);
            Assert.Equal(old.FilteredMean, e.StateMean);
            Assert.Equal(old.FilteredCovariance, e.StateCovariance);
            Assert.Equal(old.SmoothedMean is not null, e.HasSmoothed);
            if (!e.HasSmoothed)
            {
                continue;
            }

            Assert.Equal(old.SmoothedTime, e.SmoothedTime);
            if (t - lag < saved)
            {
                // The window still holds a record of the previous build.
                Assert.Equal(old.SmoothedMean, e.SmoothedMean);
                Assert.Equal(old.SmoothedCovariance, e.SmoothedCovariance);
            }
            else
            {
                Assert.Equal(f.SmoothedMean, e.SmoothedMean);
                Assert.Equal(f.SmoothedCovariance, e.SmoothedCovariance);
                largestDifference = Math.Max(largestDifference, Math.Max(
                    LargestRelativeDifference(old.SmoothedMean!, e.SmoothedMean),
                    LargestRelativeDifference(old.SmoothedCovariance!, e.SmoothedCovariance)));
            }
        }

        if (name.EndsWith("_after", StringComparison.Ordinal))
        {
            Assert.Equal(0.0, largestDifference);
        }
        else
        {
            // Windows of new records inside the diffuse period: the exact smoother, where the previous build's stand-in
            // κ = 1e10 missed by up to ~1e-5 (docs/diffuse-initialization.md).
            Assert.InRange(largestDifference, 0.0, 1e-4);
        }
    }

    /// <summary>
    /// The end of a series right after the restore (the CLI's drain) smooths the steps still in the window as the previous
    /// build did, bit for bit: every record of it was written by that build, so no direction is reported as infinite
    /// where that build reported its stand-in variance.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void SmoothPending_RightAfterTheRestore_EqualsThePreviousBuild(string name, string model, int lag, int saved)
    {
        AssertPendingEqualsThePreviousBuild(Binding(model, lag), name, lag, saved);
    }

    /// <summary>
    /// Restores fixture <paramref name="name"/> and compares the end-of-series drain with the previous build's, bit for
    /// bit or within a relative <paramref name="tolerance"/>.
    /// </summary>
    internal static void AssertPendingEqualsThePreviousBuild(ModelBinding binding, string name, int lag, int saved, double tolerance = 0.0)
    {
        var restored = StreamStateCodec.Read("s", File.ReadAllBytes(FixturePath(name + ".state")), TestModels.Router(binding), out var reason);
        Assert.Null(reason);
        var pending = ((FixedLagSmoother)binding.Estimator).SmoothPending(restored!.Buffer);
        var expected = File.ReadLines(FixturePath(name + ".pending.csv")).Skip(1).Select(line => line.Split(',')).ToList();
        Assert.Equal(Math.Min(lag, saved), expected.Count);
        Assert.Equal(expected.Count, pending.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(double.Parse(expected[i][0], CultureInfo.InvariantCulture), pending[i].Time);
            AssertMatchesPreviousBuild(Numbers(expected[i][1]), pending[i].Mean, tolerance);
            AssertMatchesPreviousBuild(Numbers(expected[i][2]), pending[i].Covariance, tolerance);
        }
    }

    /// <summary>The restored state is the converted one: written again, it reads back as it is, not converted twice.</summary>
    [Fact]
    public void Read_ConvertedState_WritesTheCurrentLengthAndReadsBackUnchanged()
    {
        var binding = Binding(Model, 5);
        var restored = StreamStateCodec.Read("s", File.ReadAllBytes(FixturePath("lag5_mid.state")), TestModels.Router(binding), out var reason);
        Assert.Null(reason);
        var again = StreamStateCodec.Read("s", StreamStateCodec.ToBytes(restored!), TestModels.Router(binding), out reason);
        Assert.Null(reason);
        Assert.Equal(restored!.Buffer.AsSpan(0, Math.Min(restored.Buffer.Length, again!.Buffer.Length)).ToArray(), again.Buffer.AsSpan(0, Math.Min(restored.Buffer.Length, again.Buffer.Length)).ToArray());
    }

    /// <summary>Only the previous build's length of this very model is converted; any other length is refused as before.</summary>
    [Theory]
    [InlineData(-1)]
    [InlineData(+1)]
    [InlineData(-363)]
    public void Read_StateOfAnotherLength_RefusedWithTheReason(int offset)
    {
        var binding = Binding(Model, 5);
        var bytes = File.ReadAllBytes(FixturePath("lag5_after.state"));
        var length = LengthField(bytes, out var at);

        // The previous build's length: 6 slots of 2n + 3n² + 1 numbers (n = 6) after the filter's state and two numbers.
        Assert.Equal(810, length);
        Assert.Equal(810 + (6 * ((2 * 6 * 6) + 4)), binding.Estimator.Info.StateLength);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), length + offset);
        var state = StreamStateCodec.Read("s", bytes, TestModels.Router(binding), out var reason);
        Assert.Null(state);
        Assert.Equal($"state buffer has {length + offset} numbers but model 'trend-week' needs {binding.Estimator.Info.StateLength}", reason);
    }

    /// <summary>A lag-2 state is not a lag-5 one: the fingerprint covers the lag, and the previous length of one lag is
    /// not converted for another.</summary>
    [Fact]
    public void Read_StateOfTheOtherLag_NotRestored()
    {
        var state = StreamStateCodec.Read("s", File.ReadAllBytes(FixturePath("lag2_after.state")), TestModels.Router(Binding(Model, 5)), out var reason);
        Assert.Null(state);
        Assert.NotNull(reason);
    }

    /// <summary>A previous-build state whose window does not fit (damaged) is refused with the reason, not converted.</summary>
    [Fact]
    public void Read_PreviousBuildStateWithADamagedWindow_RefusedWithTheReason()
    {
        var binding = Binding(Model, 5);
        var smoother = (FixedLagSmoother)binding.Estimator;
        var bytes = File.ReadAllBytes(FixturePath("lag5_after.state"));
        LengthField(bytes, out var at);
        var innerLength = smoother.Inner.Info.StateLength;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(at + 8 + (innerLength * 8)), BitConverter.DoubleToInt64Bits(99.0));
        var state = StreamStateCodec.Read("s", bytes, TestModels.Router(binding), out var reason);
        Assert.Null(state);
        Assert.Contains("(99 of 6 records filled", reason, StringComparison.Ordinal);
    }

    private static ModelBinding Binding(string model, int lag) =>
        ModelBindingFactory.FromSpec(ModelSpec.Parse(File.ReadAllText(FixturePath(model))), lag);

    internal static string FixturePath(string file) =>
        RepositoryFiles.Path("tests", "StreamSeq.Processing.Tests", "Fixtures", "former-state", file);

    /// <summary>As the generator steps (Fixtures/former-state/generator/Program.cs).</summary>
    internal static Estimate Step(ModelBinding binding, StreamState state, int t)
    {
        var estimate = new Estimate(binding.Estimator.Info);
        state.ReserveForNextStep();
        binding.Estimator.Step(state.Buffer, new Observation([Reading(t)], 1.0, t), estimate, default);
        state.Steps++;
        return estimate;
    }

    private static double Reading(int t) =>
        t == 1 ? double.NaN : 10.0 + (0.5 * t) + (3.0 * Math.Sin(2.0 * Math.PI * t / 7.0)) + ((((t * 37) % 11) - 5) * 0.1);

    /// <summary>The state buffer's announced length and its offset: the codec ends with the length, the count and the
    /// numbers of the buffer's leading part, and the last observation's fingerprint.</summary>
    private static int LengthField(byte[] bytes, out int at)
    {
        for (var used = 0; used < bytes.Length / 8; used++)
        {
            var countAt = bytes.Length - 8 - (8 * used) - 4;
            if (countAt >= 4 && BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(countAt)) == used)
            {
                at = countAt - 4;
                return BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at));
            }
        }

        throw new InvalidOperationException("no state buffer found");
    }

    private static double LargestRelativeDifference(double[] expected, double[] actual)
    {
        var largest = 0.0;
        for (var i = 0; i < expected.Length; i++)
        {
            if (expected[i] != actual[i])
            {
                largest = Math.Max(largest, Math.Abs(expected[i] - actual[i]) / Math.Max(1.0, Math.Abs(expected[i])));
            }
        }

        return largest;
    }

    /// <summary>
    /// <paramref name="actual"/> equals the previous build's <paramref name="expected"/> bit for bit when
    /// <paramref name="tolerance"/> is 0, else within that relative difference (see
    /// <see cref="FormerParticleStateUpgradeTests"/> for why particle fixtures need one).
    /// </summary>
    internal static void AssertMatchesPreviousBuild(double[] expected, double[] actual, double tolerance)
    {
        if (tolerance == 0.0)
        {
            Assert.Equal(expected, actual);
            return;
        }

        Assert.Equal(expected.Length, actual.Length);
        var difference = LargestRelativeDifference(expected, actual);
        Assert.True(difference <= tolerance, $"differs from the previous build's [{string.Join(", ", expected)}] by {difference:G3} (relative), more than {tolerance:G3}: [{string.Join(", ", actual)}]");
    }

    internal sealed record Output(int Time, double[] FilteredMean, double[] FilteredCovariance, double SmoothedTime, double[]? SmoothedMean, double[]? SmoothedCovariance);

    internal static double[] Numbers(string field) =>
        [.. field.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, CultureInfo.InvariantCulture))];

    internal static List<Output> ReadOutputs(string name)
    {

        var outputs = new List<Output>();
        foreach (var line in File.ReadLines(FixturePath(name + ".outputs.csv")).Skip(1))
        {
            var f = line.Split(',');
            var smoothed = f[4].Length > 0;
            outputs.Add(new Output(
                int.Parse(f[0], CultureInfo.InvariantCulture),
                Numbers(f[2]),
                Numbers(f[3]),
                smoothed ? double.Parse(f[4], CultureInfo.InvariantCulture) : double.NaN,
                smoothed ? Numbers(f[5]) : null,
                smoothed ? Numbers(f[6]) : null));
        }

        return outputs;
    }
}
