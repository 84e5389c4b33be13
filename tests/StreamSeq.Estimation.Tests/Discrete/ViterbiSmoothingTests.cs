using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Discrete;

/// <summary>
/// The Viterbi path through the smoothers: fixed-interval gives the MAP path of the whole series, fixed-lag the state
/// at t−L on the best path of y_{1:t}; both against the reference path (oracles/hmm) and a plain log-space Viterbi
/// written here.
/// </summary>
public sealed class ViterbiSmoothingTests
{
    [Fact]
    public void SmoothWithExtras_OracleSeries_GivesTheReferenceViterbiPath()
    {
        var filter = new HiddenMarkovFilter(HmmOracle.Model());
        var (records, heads) = Run(filter, HmmOracle.Data());
        var (_, _, extras) = FixedIntervalSmoother.SmoothWithExtras(filter, records);
        var expected = HmmOracle.Path(HmmOracle.Expected().GetProperty("viterbi_path"));
        Assert.Equal(expected, extras.Select(v => (int)v).ToArray());

        // The per-step head (argmax δ_t) is not the path: the case this output exists for.
        var differing = Enumerable.Range(0, expected.Length).Count(t => heads[t] != expected[t]);
        Assert.True(differing > 0, "the oracle series should have steps where the head differs from the MAP path");
    }

    [Fact]
    public void SmoothWithExtras_ReferenceImplementation_AgreesWithOracleAndBruteForcePrefix()
    {
        // The reference Viterbi below is what the fixed-lag test trusts; check it first.
        var expected = HmmOracle.Path(HmmOracle.Expected().GetProperty("viterbi_path"));
        Assert.Equal(expected, ReferenceViterbi(Values(HmmOracle.Data())));
        var prefix = HmmOracle.Path(HmmOracle.Expected().GetProperty("prefix12").GetProperty("viterbi_path"));
        Assert.Equal(prefix, ReferenceViterbi(Values(HmmOracle.Data(12))));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(25)]
    public void Step_FixedLag_DecidesTheStateOnTheBestPathOfThePrefix(int lag)
    {
        var filter = new FixedLagSmoother(new HiddenMarkovFilter(HmmOracle.Model()), lag);
        var data = HmmOracle.Data();
        var values = Values(data);
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var estimate = new Estimate(filter.Info);
        var decided = 0;
        for (var t = 0; t < data.Length; t++)
        {
            filter.Step(state, data.At(t), estimate, default);
            if (t < lag)
            {
                Assert.False(estimate.HasSmoothed);
                continue;
            }

            Assert.True(estimate.HasSmoothed);
            var best = ReferenceViterbi(values[..(t + 1)]);
            Assert.Equal(best[t - lag], (int)estimate.SmoothedExtras[0]);
            decided++;
        }

        Assert.Equal(data.Length - lag, decided);
    }

    [Fact]
    public void SmoothWithExtras_MissingReadings_TracesThroughGaps()
    {
        var data = HmmOracle.Data(120);
        var values = Values(data);
        foreach (var t in new[] { 3, 4, 5, 40, 41, 90, 119 })
        {
            values[t] = double.NaN;
        }

        var series = new ObservationSeries(1, values);
        var filter = new HiddenMarkovFilter(HmmOracle.Model());
        var (records, _) = Run(filter, series);
        var (_, _, extras) = FixedIntervalSmoother.SmoothWithExtras(filter, records);
        Assert.Equal(ReferenceViterbi(values), extras.Select(v => (int)v).ToArray());
    }

    [Fact]
    public void Step_FixedLagViterbiInSteadyState_AllocatesNothing()
    {
        var filter = new FixedLagSmoother(new HiddenMarkovFilter(HmmOracle.Model()), 10);
        var data = HmmOracle.Data();
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var estimate = new Estimate(filter.Info);
        for (var t = 0; t < 50; t++)
        {
            filter.Step(state, data.At(t), estimate, default);
        }

        var next = 50;
        Assert.Equal(0, SteadyStateAllocation.Fewest(() =>
        {
            // The smoother's lag is full from here on: each window carries on through the oracle's series.
            for (var end = next + 50; next < end; next++)
            {
                filter.Step(state, data.At(next), estimate, default);
            }
        }));
    }

    private static (List<double[]> Records, int[] Heads) Run(HiddenMarkovFilter filter, ObservationSeries data)
    {
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var estimate = new Estimate(filter.Info);
        var head = filter.Info.ExtraOffset("viterbiHead");
        var records = new List<double[]>();
        var heads = new int[data.Length];
        for (var t = 0; t < data.Length; t++)
        {
            var record = new double[filter.Info.BackwardRecordLength];
            filter.Step(state, data.At(t), estimate, record);
            records.Add(record);
            heads[t] = (int)estimate.Extras[head];
        }

        return (records, heads);
    }

    private static double[] Values(ObservationSeries series) =>
        [.. Enumerable.Range(0, series.Length).Select(t => series.At(t).Values[0])];

    /// <summary>Log-space Viterbi with full back-pointer tables; a missing reading contributes no emission term.</summary>
    private static int[] ReferenceViterbi(double[] y)
    {
        const int K = 3;
        var n = y.Length;
        var delta = new double[n, K];
        var psi = new int[n, K];
        double LogB(int t, int k) => double.IsNaN(y[t])
            ? 0.0
            : (-0.5 * Math.Log(2 * Math.PI * HmmOracle.Var[k])) - (0.5 * (y[t] - HmmOracle.Mu[k]) * (y[t] - HmmOracle.Mu[k]) / HmmOracle.Var[k]);
        for (var k = 0; k < K; k++)
        {
            delta[0, k] = Math.Log(HmmOracle.Pi[k]) + LogB(0, k);
        }

        for (var t = 1; t < n; t++)
        {
            for (var j = 0; j < K; j++)
            {
                var best = double.NegativeInfinity;
                for (var i = 0; i < K; i++)
                {
                    var v = delta[t - 1, i] + Math.Log(HmmOracle.A[(i * K) + j]);
                    if (v > best)
                    {
                        best = v;
                        psi[t, j] = i;
                    }
                }

                delta[t, j] = best + LogB(t, j);
            }
        }

        var path = new int[n];
        for (var k = 1; k < K; k++)
        {
            if (delta[n - 1, k] > delta[n - 1, path[n - 1]])
            {
                path[n - 1] = k;
            }
        }

        for (var t = n - 1; t > 0; t--)
        {
            path[t - 1] = psi[t, path[t]];
        }

        return path;
    }
}
