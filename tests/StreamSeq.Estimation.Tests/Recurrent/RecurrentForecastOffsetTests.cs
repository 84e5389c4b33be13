using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Recurrent;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Recurrent;

/// <summary>
/// The Monte-Carlo forecast of a recurrent model whose readings sit at a large offset (1e8, counters and absolute
/// levels) with a spread of order one: its variances must be those of the same model at offset 0.
/// </summary>
public sealed class RecurrentForecastOffsetTests
{
    [Fact]
    public void Forecast_MonteCarloAtOffset1e8_HasTheVariancesOfTheSameModelAtOffset0()
    {
        // The reference is the same network with normalisation mean 0 fed the same readings less 1e8. Readings are
        // multiples of 1/8, exact at both offsets, so both networks see bit-identical inputs up to the forecast; the
        // fed-back draws then differ by the rounding of 1e8 + draw (about 1e-8). At offset 0 the means are of order one
        // and the spread of order one, so the reference's moments are accurate to about 1e-13. At 1e8 the raw second
        // moment is about 1e16 per sample (spacing 2) and E[y^2] - E[y]^2 kept no correct digit: the variance at
        // horizon 2 came out off by whole units.
        const double offset = 1e8;
        var shifted = Estimator(offset);
        var reference = Estimator(0.0);
        var s1 = new double[shifted.Info.StateLength];
        var s0 = new double[reference.Info.StateLength];
        shifted.Initialize(s1, 77);
        reference.Initialize(s0, 77);
        var e1 = new Estimate(shifted.Info);
        var e0 = new Estimate(reference.Info);
        for (var t = 0; t < 20; t++)
        {
            var y = Math.Round(8.0 * Math.Sin(0.5 * t)) / 8.0;
            shifted.Step(s1, new Observation([offset + y]), e1, default);
            reference.Step(s0, new Observation([y]), e0, default);
        }

        var f1 = new Forecast(shifted.Info, 5);
        var f0 = new Forecast(reference.Info, 5);
        shifted.Forecast(s1, 1.0, f1);
        reference.Forecast(s0, 1.0, f0);
        for (var k = 1; k <= 5; k++)
        {
            Expect.Close(f0.ObservationMeanAt(k)[0], f1.ObservationMeanAt(k)[0] - offset, 0.0, $"mean at horizon {k}", absTol: 1e-6);
            Expect.Close(f0.ObservationCovarianceAt(k)[0], f1.ObservationCovarianceAt(k)[0], 1e-6, $"variance at horizon {k}");
            Expect.Close(f0.StateCovarianceAt(k), f1.StateCovarianceAt(k), 1e-6, $"state covariance at horizon {k}", absTol: 1e-12);
        }

        Assert.True(f0.ObservationCovarianceAt(2)[0] > f0.ObservationCovarianceAt(1)[0], "the draws' spread shows at horizon 2");
    }

    private static RecurrentEstimator Estimator(double offset)
    {
        const int hidden = 5;
        var random = new Random(17);
        var weights = RandomWeights.Create(21, 4, 1, hidden, 2, peephole: false, scale: 1.2);
        var all = new StateDictionary([.. weights.Tensors, RandomWeights.Tensor(random, "head.weight", 0.5, 2, hidden), RandomWeights.Tensor(random, "head.bias", 0.5, 2)]);
        var shape = new RecurrentNetworkShape(RecurrentCellKind.Lstm, 1, hidden, 2, false);
        var backend = RecurrentSpec.Create<double>(shape, all, 2, "head");
        var layout = new RecurrentLayout(1, observationMean: [offset], observationScale: [1.0], initialObservation: [offset]);
        return new RecurrentEstimator(backend, layout, forecastSamples: 4000);
    }
}
