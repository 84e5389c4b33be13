using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Discrete;
using StreamSeq.Estimation.Tests.Support;

namespace StreamSeq.Estimation.Tests.Discrete;

/// <summary>
/// Student-t emissions have heavy tails: at 1e160 the squared distance overflows a double, yet the log-density is
/// finite (about −(ν+1) log|y|). Such a reading must be scored and must move the filter to the heaviest-tailed state,
/// not be taken as impossible in every state and skipped with log-likelihood −∞. Expected values: forward filtering in
/// 60-digit arithmetic (Fixtures/hmm/make_student_t_far_reading.py).
/// </summary>
public sealed class StudentTFarReadingTests
{
    private static readonly double[] Readings = [0.3, 1e160, -0.2, -3e200, 2.5];

    private static readonly double[] ExpectedLogLikelihood =
        [-1.276238694910732, -555.66614098932343, -1.7872602873117958, -694.48865012274654, -2.8748458535622769];

    private static readonly double[][] ExpectedFiltered =
    [
        [0.67664453691552134, 0.27362743717786608, 0.049728025906612579],
        [0.0, 1.0, 0.0],
        [0.11574159376140206, 0.86852771038062012, 0.015730695857977816],
        [0.0, 1.0, 0.0],
        [0.018659353326423922, 0.82781463452268449, 0.15352601215089159],
    ];

    private static HiddenMarkovModel Model() => new(
        [0.5, 0.3, 0.2],
        [0.90, 0.07, 0.03, 0.05, 0.90, 0.05, 0.04, 0.06, 0.90],
        new StudentTEmission([0.0, 0.5, 3.0], [1.0, 1.0, 2.0], [30.0, 0.5, 2.5]));

    [Fact]
    public void Step_ReadingWhoseSquaredDistanceOverflows_IsScoredWithTheFiniteDensity()
    {
        var filter = new HiddenMarkovFilter(Model());
        var state = new double[filter.Info.StateLength];
        filter.Initialize(state, 0);
        var estimate = new Estimate(filter.Info);
        for (var t = 0; t < Readings.Length; t++)
        {
            filter.Step(state, new Observation([Readings[t]]), estimate, default);

            Assert.Equal(EstimateFlags.None, estimate.Flags);
            Expect.Close(ExpectedLogLikelihood[t], estimate.LogLikelihood, 1e-12, $"t={t + 1} log p(y_t | y_1:t-1)");
            Expect.Close(ExpectedFiltered[t], estimate.StateMean.AsSpan(0, 3), 0.0, $"t={t + 1} filtered", absTol: 1e-12);
        }
    }

    [Fact]
    public void ForwardBackward_ReadingWhoseSquaredDistanceOverflows_CountsInTheLikelihood()
    {
        var posterior = HmmInference.ForwardBackward(Model(), new ObservationSeries(1, Readings));

        Expect.Close(ExpectedLogLikelihood.Sum(), posterior.LogLikelihood, 1e-12, "log p(y)");
    }
}
