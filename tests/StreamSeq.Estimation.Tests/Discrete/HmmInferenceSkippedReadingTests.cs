using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Discrete;

/// <summary>
/// A reading that has probability zero in every state the chain can be in is skipped by the filter and by
/// forward–backward (its emission term is 1). The batch Viterbi must skip the same reading: otherwise every δ is −∞
/// from there on and the "best path" is an arbitrary one of probability zero. Expected values come from enumerating
/// all 3^7 paths (Fixtures/hmm/make_viterbi_skipped_reading.py).
/// </summary>
public sealed class HmmInferenceSkippedReadingTests
{
    private static readonly int[] ExpectedPath = [1, 2, 2, 0, 0, 0, 0];
    private const double ExpectedLogJoint = -7.053749806830004;
    private const double ExpectedLogLikelihood = -5.843672292087026;

    private static (HiddenMarkovModel Model, ObservationSeries Series) Case()
    {
        double[] pi = [0.0, 1.0, 0.0];
        double[] a = [0.9, 0.1, 0.0, 0.0, 0.8, 0.2, 0.3, 0.0, 0.7];
        double[] b = [0.7, 0.3, 0.0, 0.0, 0.5, 0.5, 0.2, 0.0, 0.8];

        // Category 0 first: impossible in state 1, the only state π allows.
        return (new HiddenMarkovModel(pi, a, new CategoricalEmission(b, 3)), new ObservationSeries(1, [0, 2, 2, 0, 0, 1, 1]));
    }

    [Fact]
    public void Viterbi_ReadingImpossibleInEveryReachableState_SkipsItLikeForwardBackward()
    {
        var (model, series) = Case();

        var viterbi = HmmInference.Viterbi(model, series);

        Assert.Equal(ExpectedPath, viterbi.Path);
        Expect.Close(ExpectedLogJoint, viterbi.LogJoint, 1e-12, "log p(y, s*)");
    }

    [Fact]
    public void ForwardBackwardAndFilterSmoother_ReadingImpossibleInEveryReachableState_AgreeWithEnumeration()
    {
        var (model, series) = Case();

        var posterior = HmmInference.ForwardBackward(model, series);
        var filter = new HiddenMarkovFilter(model);
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var estimate = new Estimate(filter.Info);
        var records = new List<double[]>();
        for (var t = 0; t < series.Length; t++)
        {
            var record = new double[filter.Info.BackwardRecordLength];
            filter.Step(state, series.At(t), estimate, record);
            records.Add(record);
        }

        var (_, _, extras) = FixedIntervalSmoother.SmoothWithExtras(filter, records);

        // The first reading is impossible: scored −∞ as the filter scores it, so the total is −∞; the other readings
        // still sum to the enumerated log p(y_2:7 | y_1 skipped).
        Assert.Equal(double.NegativeInfinity, posterior.LogPredictiveDensity[0]);
        Assert.Equal(double.NegativeInfinity, posterior.LogLikelihood);
        Expect.Close(ExpectedLogLikelihood, posterior.ScoredLogLikelihood, 1e-12, "log p(y) over the scored readings");
        for (var t = 0; t < series.Length; t++)
        {
            Assert.Equal(ExpectedPath[t], (int)extras[t]);
        }
    }
}
