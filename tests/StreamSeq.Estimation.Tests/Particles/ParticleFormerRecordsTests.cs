using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Particles;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Tests.Particles;

/// <summary>
/// A fixed-lag state of the previous build's layout (records without the trailer of step, gap and re-initialised flag)
/// is converted by <see cref="FixedLagSmoother.UpgradeFormerState"/> for every particle model, and the stream continues
/// bit for bit as one that was never saved: fixed lag traces ancestors, which the trailer does not enter. The states
/// the previous build itself saved are tested in StreamSeq.Processing.Tests (FormerParticleStateUpgradeTests); this
/// covers the models those fixtures do not.
/// </summary>
public sealed class ParticleFormerRecordsTests
{
    private const int Lag = 3;

    [Theory]
    [InlineData("""{"type":"growth"}""", "bootstrap")]
    [InlineData("""{"type":"pendulum"}""", "auxiliary")]
    [InlineData("""{"type":"stochastic-volatility","persistence":0.9,"volatility":0.3}""", "bootstrap")]
    [InlineData("""{"type":"linear","transition":[[1,1],[0,1]],"transitionNoise":[[0.3333,0.5],[0.5,1]],"observation":[[1,0]],"observationNoise":[[1]],"initialMean":[0,0],"initialCovariance":[[10,0],[0,10]]}""", "guided")]
    public void UpgradeFormerState_ParticleWindowWithoutTrailers_ContinuesAsTheUninterruptedStream(string model, string filter)
    {
        var json = $$"""{"name":"x","kind":"particle","particles":64,"filter":"{{filter}}","model":{{model}}}""";
        AssertConvertedContinuesAsUninterrupted(ModelCatalog.Build(ModelSpec.Parse(json)));
    }

    /// <summary>Saves after <paramref name="saved"/> readings, strips every record's trailer (the previous layout),
    /// converts, and steps both the converted and the uninterrupted stream on.</summary>
    internal static void AssertConvertedContinuesAsUninterrupted(IEstimator estimator, int saved = 6, int following = 10)
    {
        var filter = Assert.IsType<ParticleFilter>(estimator);
        var smoother = new FixedLagSmoother(filter, Lag);
        var info = filter.Info;
        var m = info.ObservationDimension;
        var state = new double[smoother.Info.StateLength];
        smoother.Initialize(state, 11);
        var estimate = new Estimate(smoother.Info);
        for (var t = 0; t < saved; t++)
        {
            smoother.Step(state, Reading(t, m), estimate, default);
        }

        // The previous build's layout: the same numbers, each record three shorter.
        var recordLength = info.BackwardRecordLength;
        var formerRecordLength = recordLength - 3;
        var innerLength = info.StateLength;
        var slots = Lag + 1;
        Assert.Equal(innerLength + 2 + (slots * (formerRecordLength + 1)), smoother.FormerStateLength);
        var former = new double[smoother.FormerStateLength];
        state.AsSpan(0, innerLength + 2).CopyTo(former);
        for (var i = 0; i < slots; i++)
        {
            var slot = state.AsSpan(innerLength + 2 + (i * (recordLength + 1)), recordLength + 1);
            var target = former.AsSpan(innerLength + 2 + (i * (formerRecordLength + 1)), formerRecordLength + 1);
            slot[..formerRecordLength].CopyTo(target);
            target[formerRecordLength] = slot[recordLength];
        }

        var converted = smoother.UpgradeFormerState(former, out var reason);
        Assert.Null(reason);
        var restored = new double[smoother.Info.StateLength];
        converted!.CopyTo(restored, 0);
        var other = new Estimate(smoother.Info);
        var pendingRestored = smoother.SmoothPending(restored);
        var pendingState = smoother.SmoothPending(state);
        Assert.Equal(pendingState.Count, pendingRestored.Count);
        for (var i = 0; i < pendingState.Count; i++)
        {
            Assert.Equal(pendingState[i].Mean, pendingRestored[i].Mean);
            Assert.Equal(pendingState[i].Covariance, pendingRestored[i].Covariance);
        }

        for (var t = saved; t < saved + following; t++)
        {
            smoother.Step(state, Reading(t, m), estimate, default);
            smoother.Step(restored, Reading(t, m), other, default);
            Assert.Equal(estimate.StateMean, other.StateMean);
            Assert.Equal(estimate.StateCovariance, other.StateCovariance);
            Assert.Equal(estimate.HasSmoothed, other.HasSmoothed);
            Assert.True(other.HasSmoothed);
            Assert.Equal(estimate.SmoothedTime, other.SmoothedTime);
            Assert.Equal(estimate.SmoothedMean, other.SmoothedMean);
            Assert.Equal(estimate.SmoothedCovariance, other.SmoothedCovariance);
        }

        // Once the converted records have left the window, the state is the uninterrupted one.
        Assert.Equal(state, restored);
    }

    private static Observation Reading(int t, int m)
    {
        var values = new double[m];
        for (var i = 0; i < m; i++)
        {
            values[i] = t == 2 ? double.NaN : 0.5 + (0.4 * Math.Sin((0.7 * t) + i));
        }

        return new Observation(values, 1.0, t);
    }
}
