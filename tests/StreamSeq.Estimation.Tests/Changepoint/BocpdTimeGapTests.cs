using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Changepoint;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Changepoint;

/// <summary>
/// BOCPD is a discrete-time model (docs/model-specs.md: one step per reading whatever the gap): the hazard counts
/// readings, not model time, so irregular time gaps must leave every output unchanged, bit for bit.
/// </summary>
public sealed class BocpdTimeGapTests
{
    [Theory]
    [InlineData(RunLengthRecursion.Changepoint)]
    [InlineData(RunLengthRecursion.AdamsMacKay)]
    public void Step_IrregularTimeGaps_GiveTheSameOutputsAsUnitGaps(RunLengthRecursion recursion)
    {
        var detector = new BayesianChangepointDetector(new WeibullHazard(30, 2), new NormalGammaModel([0.5], [0.5], [2.5], [1.5]), recursion: recursion);
        var values = BocpdOracle.Data(150).Values.ToArray();
        foreach (var t in new[] { 0, 5, 6, 41, 99 })
        {
            values[t] = double.NaN;
        }

        var gaps = new double[values.Length];
        for (var t = 0; t < gaps.Length; t++)
        {
            gaps[t] = (t % 9) switch { 0 => 3.5, 4 => 0.25, 7 => 1e6, _ => 1.0 };
        }

        var unit = new ObservationSeries(1, values);
        var irregular = new ObservationSeries(1, values, gaps);
        var info = detector.Info;
        var a = new double[info.StateLength];
        var b = new double[info.StateLength];
        detector.Initialize(a, 0);
        detector.Initialize(b, 0);
        var ea = new Estimate(info);
        var eb = new Estimate(info);
        for (var t = 0; t < values.Length; t++)
        {
            detector.Step(a, unit.At(t), ea, default);
            detector.Step(b, irregular.At(t), eb, default);
            Assert.Equal(ea.LogLikelihood, eb.LogLikelihood);
            Assert.Equal(ea.StateMean.ToArray(), eb.StateMean.ToArray());
            Assert.Equal(ea.StateCovariance.ToArray(), eb.StateCovariance.ToArray());
            Assert.Equal(ea.PredictedMean.ToArray(), eb.PredictedMean.ToArray());
            Assert.Equal(ea.ObservationCovariance.ToArray(), eb.ObservationCovariance.ToArray());
            Assert.Equal(ea.Extras.ToArray(), eb.Extras.ToArray());
        }

        var fa = new Forecast(info, 3);
        var fb = new Forecast(info, 3);
        detector.Forecast(a, 1.0, fa);
        detector.Forecast(b, 7.5, fb);
        for (var h = 1; h <= 3; h++)
        {
            Assert.Equal(fa.ObservationMeanAt(h).ToArray(), fb.ObservationMeanAt(h).ToArray());
            Assert.Equal(fa.StateCovarianceAt(h).ToArray(), fb.StateCovarianceAt(h).ToArray());
        }
    }
}
